// Opens an overlay and its base for reading: checks the header, the layout against the file, loads the bitmap,
// and finds the base the header names. Every later verb starts here.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { checkBase } from '../../core/cow/backing-check.ts';
import { countDirty, lastDirty } from '../../core/cow/bitmap.ts';
import { decodeCowHeader, hasCowMagic } from '../../core/cow/decode-header.ts';
import { type CowHeader, MAX_HEADER_BYTES } from '../../core/cow/format.ts';
import { type CowLayout, checkDirtyDataFits, checkLayoutFits, cowLayout } from '../../core/cow/layout.ts';
import { quote, UmlError } from '../../core/errors.ts';

export interface OpenedOverlay {
  readonly path: string;
  readonly fd: number;
  readonly fileBytes: number;
  /** Bytes the overlay really occupies on disk (it is sparse). */
  readonly allocatedBytes: number;
  readonly dev: number;
  readonly ino: number;
  readonly header: CowHeader;
  readonly layout: CowLayout;
  readonly bitmap: Buffer;
  readonly dirtySectors: number;
  readonly lastDirtySector: number;
}

export interface OpenedBase {
  readonly path: string;
  readonly fd: number;
  readonly sizeBytes: number;
  /** st_mtime in whole seconds, as the kernel compares it. */
  readonly mtime: number;
  readonly dev: number;
  readonly ino: number;
}

function ioError(what: string, path: string, err: unknown): UmlError {
  const e = err as NodeJS.ErrnoException;
  return new UmlError('COW_IO', `cannot ${what} ${quote(path)}: ${e.code ?? ''} ${e.message}`.trim(), {
    cause: err,
    hint:
      e.code === 'EACCES' || e.code === 'EPERM'
        ? 'check the file permissions'
        : 'check that the path is right',
  });
}

/**
 * Open a regular file without ever blocking: O_NONBLOCK makes a FIFO given as a disk fail the regular-file
 * check instead of hanging the open, which is what happens to UML itself.
 */
export function openRegular(path: string, flags: number, role: string): number {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UmlError(
        role === 'base' ? 'COW_BASE_MISSING' : 'DISK_NOT_FOUND',
        `${role} ${quote(path)} does not exist`,
        {
          cause: err,
          hint:
            role === 'base'
              ? 'the overlay names a base that is gone; if it moved, point the overlay at it with `umlkit cow rebase OVERLAY --base NEWPATH`'
              : 'check the path',
        },
      );
    }
    throw ioError('open', path, err);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new UmlError('COW_INVALID', `${role} ${quote(path)} is not a regular file`, {
      hint: 'overlays and bases must be plain files; devices, FIFOs and directories are refused',
    });
  }
  return fd;
}

const mtimeSeconds = (fd: number): { sizeBytes: number; mtime: number; dev: number; ino: number } => {
  const st = fstatSync(fd, { bigint: true });
  return {
    sizeBytes: Number(st.size),
    mtime: Number(st.mtimeNs / 1_000_000_000n),
    dev: Number(st.dev),
    ino: Number(st.ino),
  };
};

/**
 * Open and check an overlay. `writable` opens it O_RDWR (only rebase needs that).
 * @throws {UmlError} COW_INVALID for a bad header or layout, COW_IO when it cannot be read.
 */
export function openOverlay(path: string, writable = false): OpenedOverlay {
  const fd = openRegular(path, writable ? constants.O_RDWR : constants.O_RDONLY, 'overlay');
  try {
    const st = fstatSync(fd);
    const head = Buffer.alloc(Math.min(MAX_HEADER_BYTES, st.size));
    readFully(fd, head, 0, path);
    const header = decodeCowHeader(head, path);
    const layout = cowLayout(header);
    checkLayoutFits(layout, st.size, path);
    // Safe to allocate now: the bitmap was just shown to lie inside the file.
    const bitmap = Buffer.alloc(layout.bitmapBytes);
    readFully(fd, bitmap, layout.bitmapOffset, path);
    const last = lastDirty(bitmap, layout.mappedSectors);
    checkDirtyDataFits(layout, header.sectorSize, header.sizeBytes, last, st.size, path);
    return {
      path,
      fd,
      fileBytes: st.size,
      allocatedBytes: st.blocks * 512,
      dev: st.dev,
      ino: st.ino,
      header,
      layout,
      bitmap,
      dirtySectors: countDirty(bitmap, layout.mappedSectors),
      lastDirtySector: last,
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Read exactly `buf.length` bytes at `position`; a short read means the file shrank under us. */
export function readFully(fd: number, buf: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < buf.length) {
    let n: number;
    try {
      n = readSync(fd, buf, done, buf.length - done, position + done);
    } catch (err) {
      throw ioError('read', path, err);
    }
    if (n === 0) {
      throw new UmlError(
        'COW_IO',
        `${quote(path)} ended at offset ${position + done} while reading ${buf.length} bytes at ${position}`,
        {
          hint: 'the file was truncated while umlkit read it; is another program changing it?',
        },
      );
    }
    done += n;
  }
}

/** Like readFully, but bytes past the end of the file read as zeros (as ubd reads them). */
export function readZeroPadded(
  fd: number,
  buf: Uint8Array,
  length: number,
  position: number,
  path: string,
): void {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, buf, done, length - done, position + done);
    } catch (err) {
      throw ioError('read', path, err);
    }
    if (n === 0) break;
    done += n;
  }
  if (done < length) buf.fill(0, done, length);
}

/**
 * The base path an overlay names, as a host path. A relative path (only very old writers stored one) is taken
 * relative to the overlay's directory, not to whatever directory umlkit runs in.
 */
export function recordedBasePath(overlay: OpenedOverlay): string {
  const p = Buffer.from(overlay.header.backingPathBytes).toString('utf8');
  return isAbsolute(p) ? p : resolve(dirname(overlay.path), p);
}

/** Open a base read-only (or read-write, for merge) and take its size and mtime. */
export function openBase(path: string, writable = false): OpenedBase {
  const fd = openRegular(path, writable ? constants.O_RDWR : constants.O_RDONLY, 'base');
  return { path, fd, ...mtimeSeconds(fd) };
}

export function refreshBaseFacts(base: OpenedBase): OpenedBase {
  return { ...base, ...mtimeSeconds(base.fd) };
}

/** True when the file starts with the COW magic: an overlay used as a base would show the guest its raw bytes. */
export function looksLikeOverlay(fd: number): boolean {
  const b = Buffer.alloc(8);
  const n = readSync(fd, b, 0, 8, 0);
  return hasCowMagic(b.subarray(0, n));
}

/** Open the base an overlay names (or `override`) and check it is the file the overlay was made over. */
export function openMatchingBase(overlay: OpenedOverlay, override?: string, writable = false): OpenedBase {
  const base = openBase(override ?? recordedBasePath(overlay), writable);
  try {
    checkBase(overlay.path, overlay.header, base);
  } catch (err) {
    closeSync(base.fd);
    throw err;
  }
  return base;
}

export function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {}
}
