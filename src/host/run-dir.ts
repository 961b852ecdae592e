// Per-machine runtime directories of ephemeral machines, and the sweep that removes those whose owner died.
//
// <runtimeDir>/<id>/owner.json records the owning umlkit process and the kernel's process group, each
// with its start time, so a later run can tell a dead owner from a reused PID and kill what it left.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, type ProcessIdentity } from './process-identity.ts';

export interface RunOwner {
  readonly version: 1;
  readonly owner: ProcessIdentity;
  kernel?: ProcessIdentity;
}

export const OWNER_FILE = 'owner.json';

export function createRunDir(runtimeDir: string, id: string, owner: RunOwner): string {
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  const dir = join(runtimeDir, id);
  mkdirSync(dir, { mode: 0o700 });
  writeOwner(dir, owner);
  return dir;
}

export function writeOwner(dir: string, owner: RunOwner): void {
  const tmp = join(dir, `${OWNER_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(owner));
  renameSync(tmp, join(dir, OWNER_FILE));
}

/** How long ago `dir` changed; undefined when it no longer exists. */
function ageMs(dir: string): number | undefined {
  try {
    return Date.now() - statSync(dir).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Remove run dirs whose owner is gone, killing a kernel group they left running. Returns what it removed. */
export function sweepStaleRunDirs(runtimeDir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(runtimeDir).filter((n) => n.startsWith('run-'));
  } catch {
    return removed;
  }
  for (const name of names) {
    const dir = join(runtimeDir, name);
    let owner: RunOwner | undefined;
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as RunOwner;
    } catch {
      owner = undefined;
    }
    if (owner && isAlive(owner.owner)) continue;
    // A directory this young without an owner file is being created right now by another run; one that
    // is gone was just removed by its own run as it ended.
    if (!owner && (ageMs(dir) ?? 0) < 10_000) continue;
    if (owner?.kernel && isAlive(owner.kernel)) {
      try {
        process.kill(-owner.kernel.pid, 'SIGKILL');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
