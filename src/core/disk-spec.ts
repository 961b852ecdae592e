// Parses `--disk PATH[:ro|:rw]` and checks that a path can be written in UML's ubd/initrd syntax.
import { quote, UmlError } from './errors.ts';

export interface DiskSpec {
  readonly path: string;
  readonly readonly: boolean;
}

/**
 * UML splits ubd and channel options on `,` and `:` and the kernel command line on whitespace,
 * so such paths cannot be passed at all; refuse them before launch with a way out.
 * @throws {UmlError} PATH_UNSUPPORTED
 */
export function checkKernelPath(path: string, what: string): string {
  if (/[,:\s"]/.test(path)) {
    throw new UmlError(
      'PATH_UNSUPPORTED',
      `${what} path ${quote(path)} contains a comma, colon, quote or space`,
      {
        hint: 'the UML kernel cannot take such paths on its command line; rename the file or use a symlink without them',
      },
    );
  }
  return path;
}

/** @throws {UmlError} INVALID_DISK_SPEC for an empty path or an unknown mode suffix. */
export function parseDiskSpec(text: string): DiskSpec {
  const m = /^(.*?)(?::(ro|rw))?$/.exec(text);
  const path = m?.[1] ?? '';
  if (path === '' || /:[^/]*$/.test(path)) {
    throw new UmlError('INVALID_DISK_SPEC', `disk ${quote(text)} is not PATH or PATH:ro`, {
      hint: 'e.g. `--disk data.ext4` (writable) or `--disk base.img:ro` (read-only)',
    });
  }
  return { path, readonly: m?.[2] === 'ro' };
}

/** Guest device name of ubd unit N: 0 → ubda, 1 → ubdb, … */
export const ubdDevice = (unit: number): string => `/dev/ubd${String.fromCharCode(97 + unit)}`;

/** UML supports units 0..15; unit 0 is the root disk. */
export const MAX_UBD_UNITS = 16;
