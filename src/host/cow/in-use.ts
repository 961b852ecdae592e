// Finds who holds an overlay or a base right now: umlkit machines (through their disk locks) and any UML
// process (through the kernel's POSIX locks in /proc/locks), so cow verbs never touch a disk in use.
import { readFileSync, statSync } from 'node:fs';
import { quote, UmlError } from '../../core/errors.ts';
import { findDiskHolders } from '../disk-lock.ts';

export interface Holder {
  readonly description: string;
  readonly writable: boolean;
}

/** st_dev as the "major:minor" hex pair /proc/locks prints (glibc's makedev encoding). */
function devPair(dev: number): string {
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * Processes holding a lock on the file. UML takes F_WRLCK on a writable disk and F_RDLCK on a base or a
 * read-only disk while the guest has the device open. Its orphaned helpers keep the lock after the main
 * process dies, so a lock here means "still in use" even when the pid is gone.
 */
export function kernelLockHolders(path: string): Holder[] {
  let text: string;
  let st: { dev: number; ino: number };
  try {
    st = statSync(path);
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const want = `${devPair(st.dev)}:${st.ino}`;
  const holders: Holder[] = [];
  for (const line of text.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; a "->" line is a waiter, not a holder.
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || f[1] === '->') continue;
    const [, kind, , access, pidText, id] = f;
    if (id?.toLowerCase() !== want) continue;
    const pid = Number(pidText);
    holders.push({
      description: `process ${pid} (${processName(pid)}, ${kind} ${access === 'WRITE' ? 'write' : 'read'} lock)`,
      writable: access === 'WRITE',
    });
  }
  return holders;
}

export function findHolders(stateDir: string | undefined, path: string): Holder[] {
  const machines = stateDir
    ? findDiskHolders(stateDir, path).map((h) => ({
        description: `machine ${quote(h.machine)} (pid ${h.pid}, ${h.mode === 'rw' ? 'writable' : 'read-only'})`,
        writable: h.mode === 'rw',
      }))
    : [];
  return [...machines, ...kernelLockHolders(path)];
}

/**
 * Refuse when `path` is held. `allowReaders` lets read-only holders stay (other machines reading a base
 * do not stop us reading it too).
 * @throws {UmlError} COW_IN_USE naming the holder.
 */
export function assertNotInUse(
  stateDir: string | undefined,
  path: string,
  role: 'overlay' | 'base',
  action: string,
  allowReaders = false,
): void {
  const holders = findHolders(stateDir, path).filter((h) => !allowReaders || h.writable);
  const first = holders[0];
  if (!first) return;
  throw new UmlError(
    'COW_IN_USE',
    `cannot ${action}: ${role} ${quote(path)} is in use by ${first.description}`,
    {
      hint:
        holders.length > 1
          ? `stop everything that uses it first (${holders.length} holders: ${holders.map((h) => h.description).join('; ')})`
          : `stop ${first.description} first, then run the command again`,
    },
  );
}
