// Writes a buffer to a file as runs of 4 KiB blocks, skipping the blocks the caller does not need written, so
// zeros never fill holes of a sparse image and a flattened image stays sparse.
import { writeSync } from 'node:fs';
import { quote, UmlError } from '../../core/errors.ts';

/** The host filesystem's allocation unit on every Linux filesystem we target: a hole is at least this big. */
export const BLOCK_BYTES = 4096;
const ZERO_BLOCK = Buffer.alloc(BLOCK_BYTES);

export const isZeroRange = (buf: Buffer, start: number, end: number): boolean =>
  buf.compare(ZERO_BLOCK, 0, end - start, start, end) === 0;

export function writeAll(
  fd: number,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
  path: string,
): void {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = writeSync(fd, buf, offset + done, length - done, position + done);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new UmlError(
        'COW_IO',
        `cannot write ${quote(path)} at offset ${position + done}: ${e.code ?? e.message}`,
        {
          cause: err,
          hint:
            e.code === 'ENOSPC'
              ? 'the host filesystem is full; free space and run the command again'
              : 'check the disk',
        },
      );
    }
    done += n;
  }
}

/**
 * Write `buf[0, length)` at `position`, block by block, skipping every block for which `keep` is false and
 * coalescing the rest into as few writes as possible. `position` must be block-aligned. Returns the writes made.
 */
export function writeKeptBlocks(
  fd: number,
  buf: Buffer,
  length: number,
  position: number,
  path: string,
  keep: (start: number, end: number) => boolean,
): number {
  let writes = 0;
  let spanStart = -1;
  for (let at = 0; at < length; at += BLOCK_BYTES) {
    const end = Math.min(at + BLOCK_BYTES, length);
    if (keep(at, end)) {
      if (spanStart < 0) spanStart = at;
      continue;
    }
    if (spanStart >= 0) {
      writeAll(fd, buf, spanStart, at - spanStart, position + spanStart, path);
      writes++;
      spanStart = -1;
    }
  }
  if (spanStart >= 0) {
    writeAll(fd, buf, spanStart, length - spanStart, position + spanStart, path);
    writes++;
  }
  return writes;
}
