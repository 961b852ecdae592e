// Creates an overlay over a base: a v3 header, an empty bitmap and a sparse data area, in a few system calls
// whatever the base's size, published atomically under its final name.
import {
  closeSync,
  constants,
  fsyncSync,
  ftruncateSync,
  linkSync,
  openSync,
  realpathSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { decodeCowHeader } from '../../core/cow/decode-header.ts';
import { encodeCowHeaderV3 } from '../../core/cow/encode-header.ts';
import { type CowHeader, DEFAULT_ALIGNMENT } from '../../core/cow/format.ts';
import { type CowLayout, cowLayout } from '../../core/cow/layout.ts';
import { quote, UmlError } from '../../core/errors.ts';
import { assertNotInUse } from './in-use.ts';
import { closeQuietly, looksLikeOverlay, openBase } from './open-overlay.ts';
import { writeAll } from './sparse-write.ts';

export interface CreateOverlayOptions {
  /** umlkit's state dir, to find machines writing to the base; omit to check only kernel locks. */
  readonly stateDir?: string;
  /** Directory relative paths are resolved against (the CLI's cwd). */
  readonly cwd?: string;
  /** fsync the overlay and its directory before returning (default true). */
  readonly durable?: boolean;
}

export interface CreatedOverlay {
  readonly overlayPath: string;
  /** The base path recorded in the header: absolute, directory symlinks resolved, as uml_mkcow records it. */
  readonly basePath: string;
  readonly header: CowHeader;
  readonly layout: CowLayout;
}

/**
 * Absolute path with the *directory* resolved to its physical path but the file name kept, exactly as
 * uml_mkcow (chdir + getcwd) does, so both tools record the same path for the same base.
 */
export function recordablePath(path: string, cwd = process.cwd()): string {
  const abs = resolve(cwd, path);
  return join(realpathSync(dirname(abs)), basename(abs));
}

/**
 * @throws {UmlError} DISK_EXISTS if the overlay exists, COW_BASE_MISSING, COW_INVALID if the base is itself an
 *   overlay or not a regular file, COW_IN_USE if a machine is writing the base.
 */
export function createOverlay(
  overlayPath: string,
  basePath: string,
  options: CreateOverlayOptions = {},
): CreatedOverlay {
  const cwd = options.cwd ?? process.cwd();
  const overlay = resolve(cwd, overlayPath);
  let recorded: string;
  try {
    recorded = recordablePath(basePath, cwd);
  } catch {
    throw new UmlError('COW_BASE_MISSING', `base ${quote(basePath)} does not exist`, {
      hint: 'check the path of the base image',
    });
  }
  const base = openBase(recorded);
  let fd: number | undefined;
  let tmp: string | undefined;
  try {
    if (looksLikeOverlay(base.fd)) {
      throw new UmlError('COW_INVALID', `base ${quote(basePath)} is itself an overlay`, {
        hint: 'UML reads a base as a plain image and would show the guest the overlay header; flatten it first with `umlkit cow commit BASE NEW_IMAGE` and use NEW_IMAGE',
      });
    }
    // A machine writing the base would change it under the new overlay the moment it is made.
    assertNotInUse(options.stateDir, recorded, 'base', 'create an overlay over it', true);
    const header = encodeCowHeaderV3({
      backingPathBytes: Buffer.from(recorded, 'utf8'),
      mtime: base.mtime,
      sizeBytes: base.sizeBytes,
      alignment: DEFAULT_ALIGNMENT,
    });
    const decoded = decodeCowHeader(header, overlay);
    const layout = cowLayout(decoded);
    tmp = join(dirname(overlay), `.${basename(overlay)}.tmp-${process.pid}-${Date.now().toString(36)}`);
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    } catch (err) {
      throw new UmlError(
        'COW_IO',
        `cannot create a file in ${quote(dirname(overlay))}: ${(err as Error).message}`,
        {
          cause: err,
          hint: 'check that the directory exists and is writable',
        },
      );
    }
    const buf = Buffer.from(header);
    writeAll(fd, buf, 0, buf.length, 0, tmp);
    // The bitmap and data area stay holes: zero bitmap = every sector still comes from the base.
    ftruncateSync(fd, layout.fullFileBytes);
    if (options.durable ?? true) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    // link() refuses an existing name atomically, where rename() would replace it.
    try {
      linkSync(tmp, overlay);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UmlError('DISK_EXISTS', `overlay ${quote(overlayPath)} already exists`, {
          hint: 'remove it first if you mean to start over, or pick another name',
        });
      }
      throw new UmlError('COW_IO', `cannot create ${quote(overlayPath)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (options.durable ?? true) fsyncDir(dirname(overlay));
    return { overlayPath: overlay, basePath: recorded, header: decoded, layout };
  } finally {
    closeQuietly(fd);
    closeQuietly(base.fd);
    if (tmp) {
      try {
        unlinkSync(tmp);
      } catch {}
    }
  }
}

export function fsyncDir(dir: string): void {
  try {
    const d = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {}
}
