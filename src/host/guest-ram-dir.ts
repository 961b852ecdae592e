// Picks the directory for the guest's RAM file. UML maps it with PROT_EXEC, so a noexec mount (a common
// hardening of /dev/shm) makes UML exit with "must be not mounted noexec"; tmpfs keeps it off the disk.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UmlError } from '../core/errors.ts';

interface MountInfo {
  readonly mountPoint: string;
  readonly options: readonly string[];
  readonly fsType: string;
}

function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const mountPoint = (fields[4] ?? '').replace(/\\040/g, ' ');
    mounts.push({ mountPoint, options: (fields[5] ?? '').split(','), fsType: right.split(' ')[0] ?? '' });
  }
  return mounts;
}

/** The mount that holds `dir` (the longest matching mount point). */
export function mountOf(dir: string): MountInfo | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const abs = resolve(dir);
  let best: MountInfo | undefined;
  for (const m of parseMountInfo(text)) {
    const inside = abs === m.mountPoint || abs.startsWith(m.mountPoint === '/' ? '/' : `${m.mountPoint}/`);
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

export interface RamDirChoice {
  readonly dir: string;
  readonly tmpfs: boolean;
  /** Candidates rejected on the way, with why: shown by `umlkit doctor`. */
  readonly rejected: readonly string[];
}

/** The first writable, exec-able candidate, preferring tmpfs. */
export function chooseGuestRamDir(candidates: readonly string[]): RamDirChoice | undefined {
  const rejected: string[] = [];
  const usable: RamDirChoice[] = [];
  for (const dir of candidates) {
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      rejected.push(`${dir}: not writable`);
      continue;
    }
    const mount = mountOf(dir);
    if (mount?.options.includes('noexec')) {
      rejected.push(`${dir}: mounted noexec`);
      continue;
    }
    usable.push({ dir, tmpfs: mount?.fsType === 'tmpfs', rejected });
  }
  return usable.find((c) => c.tmpfs) ?? usable[0];
}

/**
 * The guest RAM directory for a machine of this user: the runtime dir, /dev/shm, /tmp or the cache.
 * @throws {UmlError} HOST_UNSUITABLE when none is writable and exec-able.
 */
export function pickGuestRamDir(paths: { runtimeDir: string; cacheDir: string }): RamDirChoice {
  const choice = chooseGuestRamDir(
    [paths.runtimeDir, '/dev/shm', '/tmp', paths.cacheDir].filter((d) => existsSync(d)),
  );
  if (!choice) {
    throw new UmlError('HOST_UNSUITABLE', 'no writable, exec-able directory for guest memory', {
      hint: 'run `umlkit doctor`; set UMLKIT_RUNTIME_DIR to a directory on a filesystem mounted without noexec',
    });
  }
  return choice;
}
