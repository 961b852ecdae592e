// Answers of the sandbox's host probes (can bwrap build namespaces here, which libraries does a kernel
// load) kept in the user's cache dir: each of them spawns a helper process (~10-15 ms), and `umlkit run`
// would otherwise pay both on every launch. Keys hold what would change an answer (the files' identities,
// the host's boot id); only successes are kept, so a host that loses a layer is asked again at once, and a
// bwrap that fails later fails the launch loudly: a memo never makes a sandbox weaker.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, resolvePaths } from '../paths.ts';

type Env = Readonly<Record<string, string | undefined>>;
const FILE = 'sandbox-probes.json';
/** Bounded: a memo of every kernel ever probed is not needed, only the recent ones. */
const MAX_ENTRIES = 32;

export function probeMemoFile(env: Env): string {
  return join(resolvePaths(env).cacheDir, FILE);
}

/** "ino:size:mtime" of a file, or undefined when it is gone (then nothing is remembered for it). */
export function fileIdentity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function load(file: string): Record<string, unknown> {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as {
      version?: number;
      entries?: Record<string, unknown>;
    };
    return data.version === 1 && data.entries && typeof data.entries === 'object' ? data.entries : {};
  } catch {
    return {};
  }
}

/** The remembered answer for `key`, if `valid` accepts it. */
export function recall<T>(file: string, key: string, valid: (v: unknown) => v is T): T | undefined {
  const v = load(file)[key];
  return valid(v) ? v : undefined;
}

/** Remembers a successful answer; a memo that cannot be written is only a missed shortcut. */
export function remember(file: string, key: string, value: unknown): void {
  try {
    const entries = load(file);
    delete entries[key];
    entries[key] = value; // newest last
    const keys = Object.keys(entries);
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete entries[old];
    ensurePrivateDir(join(file, '..'));
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ version: 1, entries }), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {}
}
