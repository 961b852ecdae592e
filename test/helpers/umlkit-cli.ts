// Runs the real CLI (bin/umlkit.js) as a child process with isolated state and runtime directories,
// optionally as the unprivileged test user, and checks that nothing is left behind afterwards.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

export const REPO = join(import.meta.dirname, '..', '..');
export const BIN = join(REPO, 'bin', 'umlkit.js');
export const TEST_USER = 'umlkit-test';

export interface Sandbox {
  readonly root: string;
  readonly env: Record<string, string>;
  readonly runtimeDir: string;
  readonly stateDir: string;
  readonly user: string | undefined;
  /** Throws if a machine process, run directory or lock of this sandbox survived. */
  assertClean(): void;
  dispose(): void;
}

/** A fresh state + runtime dir; the image cache is shared (built once in global setup). */
export function createSandbox(options: { user?: string } = {}): Sandbox {
  // Short root: UML socket paths must stay under 108 bytes.
  const root = mkdtempSync('/tmp/uk-');
  chmodSync(root, 0o755);
  const stateDir = join(root, 'state');
  const runtimeDir = join(root, 'rt');
  const home = join(root, 'home');
  for (const d of [stateDir, runtimeDir, home]) mkdirSync(d, { mode: 0o700 });
  if (options.user) {
    const uid = Number(execFileSync('id', ['-u', options.user]).toString());
    const gid = Number(execFileSync('id', ['-g', options.user]).toString());
    for (const d of [root, stateDir, runtimeDir, home]) chownSync(d, uid, gid);
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    UMLKIT_STATE_DIR: stateDir,
    UMLKIT_RUNTIME_DIR: runtimeDir,
    UMLKIT_CACHE_DIR: inject('cacheDir'),
  };
  return {
    root,
    env,
    runtimeDir,
    stateDir,
    user: options.user,
    assertClean() {
      const procs = machineProcesses(runtimeDir);
      // Long-lived machines keep their run dirs under m/ while they exist; m/ itself may stay.
      const runs = existsSync(runtimeDir) ? readdirSync(runtimeDir).filter((n) => n !== 'm') : [];
      const locksDir = join(stateDir, 'locks');
      const locks = existsSync(locksDir)
        ? readdirSync(locksDir).flatMap((d) => readdirSync(join(locksDir, d)))
        : [];
      if (procs.length || runs.length || locks.length) {
        throw new Error(
          `left behind: processes ${JSON.stringify(procs)}, run dirs ${JSON.stringify(runs)}, locks ${JSON.stringify(locks)}`,
        );
      }
    },
    dispose() {
      for (const pid of machineProcesses(runtimeDir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** PIDs of any process whose command line mentions `marker` (UML's argv carries its uml_dir). */
export function machineProcesses(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes(marker) && cmdline.includes('umid=')) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** stderr as raw bytes, for binary comparisons. */
  readonly stderrBytes: Buffer;
}

export interface CliOptions {
  readonly input?: Buffer | string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly onSpawn?: (child: ChildProcess) => void;
}

export function umlkit(box: Sandbox, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const env = { ...box.env, ...options.env };
  const [file, argv] = box.user
    ? [
        'runuser',
        [
          '-u',
          box.user,
          '--',
          'env',
          '-i',
          ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
          process.execPath,
          BIN,
          ...args,
        ],
      ]
    : [process.execPath, [BIN, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env, cwd: options.cwd ?? box.root, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const errChunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      errChunks.push(d);
      err += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `umlkit ${args.join(' ')} did not finish within ${options.timeoutMs ?? 90_000} ms; stderr: ${err}`,
        ),
      );
    }, options.timeoutMs ?? 90_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderrBytes = Buffer.concat(errChunks);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: stderrBytes.toString(), stderrBytes });
    });
    options.onSpawn?.(child);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** A user error must never print a JavaScript stack trace. */
export function expectNoStack(stderr: string): void {
  if (/^\s+at .+\(.*\.(js|ts):\d+:\d+\)/m.test(stderr)) throw new Error(`stack trace on stderr:\n${stderr}`);
}

/** Create the unprivileged user the rootless tests run as (only possible, and only needed, as root). */
export function ensureTestUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    execFileSync('id', [TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER]);
  }
  return TEST_USER;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cacheDir: string;
  }
}
