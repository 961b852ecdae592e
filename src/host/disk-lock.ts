// Host-side disk locks: one writer per disk file, across every machine of this user, taken before launch.
//
// UML's own fcntl lock is taken only when the guest opens the device, and a conflict then shows up as a
// guest-side I/O error or a root-mount panic. So umlkit records each attached disk in
// <stateDir>/locks/<dev>-<inode>.json, created with O_EXCL, holding the machine name and the holder's
// pid + start time. A lock whose holder is dead is stale and reclaimed.
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import { isAlive, type ProcessIdentity } from './process-identity.ts';

export type DiskMode = 'rw' | 'ro';

export interface DiskHolder extends ProcessIdentity {
  readonly machine: string;
  readonly path: string;
  readonly mode: DiskMode;
}

interface LockRecord {
  readonly version: 1;
  readonly holders: DiskHolder[];
}

const lockDir = (stateDir: string): string => join(stateDir, 'locks');

function lockFileFor(stateDir: string, path: string): string {
  const st = statSync(path);
  return join(lockDir(stateDir), `${st.dev}-${st.ino}`);
}

function liveHolders(file: string): DiskHolder[] {
  const holders: DiskHolder[] = [];
  let names: string[];
  try {
    names = readdirSync(file);
  } catch {
    return holders;
  }
  for (const name of names) {
    const entry = join(file, name);
    try {
      const record = JSON.parse(readFileSync(entry, 'utf8')) as LockRecord;
      const alive = record.holders.filter(isAlive);
      if (alive.length === 0) unlinkSync(entry);
      else holders.push(...alive);
    } catch {
      // Half-written by a holder that died mid-write: it protects nothing.
      try {
        unlinkSync(entry);
      } catch {}
    }
  }
  return holders;
}

/** Live machines holding `path`, newest last. */
export function findDiskHolders(stateDir: string, path: string): DiskHolder[] {
  try {
    return liveHolders(lockFileFor(stateDir, path));
  } catch {
    return [];
  }
}

export interface DiskLockRequest {
  readonly path: string;
  readonly mode: DiskMode;
}

/**
 * Lock every disk of one machine, or none: readers share, a writer excludes everyone.
 * @returns a release function that removes this machine's entries.
 * @throws {UmlError} DISK_IN_USE naming the machine that holds the disk.
 */
export function acquireDiskLocks(
  stateDir: string,
  requests: readonly DiskLockRequest[],
  holder: ProcessIdentity & { readonly machine: string },
): () => void {
  mkdirSync(lockDir(stateDir), { recursive: true, mode: 0o700 });
  const taken: string[] = [];
  const release = (): void => {
    for (const entry of taken) {
      try {
        unlinkSync(entry);
      } catch {}
    }
    taken.length = 0;
  };
  try {
    for (const req of requests) {
      const dir = lockFileFor(stateDir, req.path);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const entry = join(dir, `${holder.pid}-${holder.startTime}-${req.mode}`);
      // Write our entry first, then look at the others: two racing writers both see each other and
      // both back off, rather than both going ahead.
      const fd = openSync(entry, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      const record: LockRecord = { version: 1, holders: [{ ...holder, path: req.path, mode: req.mode }] };
      writeSync(fd, JSON.stringify(record));
      closeSync(fd);
      taken.push(entry);
      const others = liveHolders(dir).filter(
        (h) => !(h.pid === holder.pid && h.startTime === holder.startTime),
      );
      const conflict = others.find((h) => h.mode === 'rw' || req.mode === 'rw');
      if (conflict) {
        throw new UmlError(
          'DISK_IN_USE',
          `disk ${quote(req.path)} is in use by machine ${quote(conflict.machine)} (pid ${conflict.pid}, ${conflict.mode === 'rw' ? 'writable' : 'read-only'})`,
          {
            hint:
              req.mode === 'rw' && conflict.mode === 'ro'
                ? 'a disk that other machines read cannot be attached writable; attach it with `:ro`, or stop the other machine'
                : `stop machine ${quote(conflict.machine)} first, or attach the disk read-only with \`:ro\` if both only read it`,
          },
        );
      }
    }
  } catch (err) {
    release();
    throw err;
  }
  return release;
}
