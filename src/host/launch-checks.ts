// Checks made before any kernel starts, for inputs that would otherwise hang it or open the wrong host
// file: the same file attached twice, guest memory beyond policy or the host, shares that are not dirs.
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { checkKernelPath } from '../core/disk-spec.ts';
import { quote, UmlError } from '../core/errors.ts';
import type { ShareSpec } from '../core/kernel-argv.ts';
import { formatSize } from '../core/units.ts';

const MIB = 1024 * 1024;
/** Below this UML 6.1 panics or refuses ("Too few physical memory"). */
export const MIN_MEMORY_BYTES = 32 * MIB;
/** Policy ceiling whatever the host has (UML 6.1 spins forever at mem=1T). */
export const MAX_MEMORY_BYTES = 64 * 1024 * MIB;

/** @throws {UmlError} DISK_DUPLICATE when two paths name one file (UML would open it twice, unlocked). */
export function checkDistinctFiles(paths: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const p of paths) {
    let key: string;
    try {
      const st = statSync(p);
      key = `${st.dev}:${st.ino}`;
    } catch {
      continue; // a missing file is reported by the file checks
    }
    const first = seen.get(key);
    if (first !== undefined) {
      throw new UmlError('DISK_DUPLICATE', `${quote(p)} is the same file as ${quote(first)}`, {
        hint: 'attach each file once: one machine writing a file through two devices corrupts it',
      });
    }
    seen.set(key, p);
  }
}

// sysinfo(2), not /proc/meminfo: reading that file costs milliseconds on every launch on some hosts.
function hostMemoryBytes(): number | undefined {
  const bytes = totalmem();
  return bytes > 0 ? bytes : undefined;
}

/** @throws {UmlError} MEMORY_TOO_LARGE outside [32M, min(policy, host RAM)]. */
export function checkMemory(bytes: number): void {
  const host = hostMemoryBytes();
  const max = Math.min(MAX_MEMORY_BYTES, host ?? MAX_MEMORY_BYTES);
  if (bytes < MIN_MEMORY_BYTES || bytes > max) {
    throw new UmlError(
      'MEMORY_TOO_LARGE',
      `guest memory ${quote(formatSize(bytes))} is outside ${formatSize(MIN_MEMORY_BYTES)}..${formatSize(max)}${host && max === host ? ' (this host has that much RAM)' : ''}`,
      { hint: 'choose e.g. `--mem 128M` or `--mem 1G`' },
    );
  }
}

/** Resolve and check each share's host directory. @throws {UmlError} SHARE_UNUSABLE */
export function checkShares(shares: readonly ShareSpec[]): ShareSpec[] {
  const guests = new Set<string>();
  return shares.map((s) => {
    checkKernelPath(s.hostDir, 'share');
    let real: string;
    try {
      real = realpathSync(s.hostDir);
      if (!statSync(real).isDirectory()) throw new Error('not a directory');
      accessSync(
        real,
        s.readonly ? constants.R_OK | constants.X_OK : constants.R_OK | constants.W_OK | constants.X_OK,
      );
    } catch {
      throw new UmlError(
        'SHARE_UNUSABLE',
        `share ${quote(s.hostDir)} is not a directory you can ${s.readonly ? 'read' : 'read and write'}`,
        {
          hint: 'give an existing directory (add `:ro` if you can only read it)',
        },
      );
    }
    if (guests.has(s.guestDir)) {
      throw new UmlError('SHARE_UNUSABLE', `two shares are mounted at ${quote(s.guestDir)}`, {
        hint: 'give each share its own guest directory',
      });
    }
    guests.add(s.guestDir);
    return { ...s, hostDir: real };
  });
}
