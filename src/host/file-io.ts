// Batched file-to-file copies at explicit offsets over our N-API addon (native/fileio/fileio.c), with a
// pure-JS fallback when the addon is not built, so every caller works either way; the merge's window copy
// and writeback thread, which only the addon has.
import { readSync, writeSync } from 'node:fs';
import { loadNativeAddon } from './native-addon.ts';

export interface FileIoBinding {
  copyFileRange(fdIn: number, offIn: number, fdOut: number, offOut: number, len: number): number;
  copyRuns(fdIn: number, fdOut: number, runs: Float64Array): number;
  copyBitmapRuns(
    fdIn: number,
    fdOut: number,
    bitmap: Uint8Array,
    fromSector: number,
    toSector: number,
    inOffset: number,
    sectorSize: number,
    sizeBytes: number,
  ): [bytes: number, runs: number];
  mergeBitmapWindow(
    fdIn: number,
    fdOut: number,
    bitmap: Uint8Array,
    fromSector: number,
    toSector: number,
    inOffset: number,
    sectorSize: number,
    sizeBytes: number,
    gapBytes: number,
  ): [bytes: number, writes: number];
  /** fstatfs's f_type: the filesystem's magic number. */
  fsType(fd: number): number;
  startWriteback(fd: number, offset: number, length: number): void;
  writebackThread(fd: number): WritebackThread;
  writebackQueue(thread: WritebackThread, offset: number, length: number): void;
  writebackStop(thread: WritebackThread): void;
}

/** A thread of the addon that starts writeback of the ranges it is given (an opaque handle). */
export type WritebackThread = { readonly __writebackThread: unique symbol };

/** A failed copy: `syscall` and `code` as Node reports them, and the output offset it had reached. */
export interface CopyError extends NodeJS.ErrnoException {
  readonly offset: number;
  /** With code "EOF": which file ended, "overlay" or "base" (mergeBitmapWindow). */
  readonly file?: string;
}

let binding: FileIoBinding | null | undefined;

/**
 * The addon, or null when it is not built or UMLKIT_NO_NATIVE_FILEIO is set (tests and the benchmark use
 * that to measure the fallback). Loaded once, on first use.
 */
export function nativeFileIo(): FileIoBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  if (process.env.UMLKIT_NO_NATIVE_FILEIO) return binding;
  binding = loadNativeAddon<FileIoBinding>('fileio.node') ?? null;
  return binding;
}

/** Forget the loaded addon (tests switch UMLKIT_NO_NATIVE_FILEIO between cases). */
export function resetFileIo(): void {
  binding = undefined;
}

const FALLBACK_BYTES = 1 << 20;
let fallbackBuffer: Buffer | undefined;

/**
 * Copy each (input offset, output offset, length) triple of `runs` from `fdIn` to `fdOut`, in order.
 * Returns the bytes copied: less than the lengths' sum only when the input ended (the caller decides whether
 * that is an error). Throws a CopyError for a failed read or write.
 */
export function copyRuns(fdIn: number, fdOut: number, runs: Float64Array): number {
  const native = nativeFileIo();
  if (native) return native.copyRuns(fdIn, fdOut, runs);
  fallbackBuffer ??= Buffer.allocUnsafe(FALLBACK_BYTES);
  const buf = fallbackBuffer;
  let total = 0;
  for (let i = 0; i < runs.length; i += 3) {
    const from = runs[i] as number;
    const to = runs[i + 1] as number;
    const len = runs[i + 2] as number;
    let done = 0;
    while (done < len) {
      let n: number;
      try {
        n = readSync(fdIn, buf, 0, Math.min(len - done, buf.length), from + done);
      } catch (err) {
        throw Object.assign(err as Error, { offset: to + done });
      }
      if (n === 0) return total + done;
      for (let w = 0; w < n; ) {
        try {
          w += writeSync(fdOut, buf, w, n - w, to + done + w);
        } catch (err) {
          throw Object.assign(err as Error, { offset: to + done + w });
        }
      }
      done += n;
    }
    total += len;
  }
  return total;
}

/**
 * Ask the kernel to start writing a range of `fd` to its device now, without waiting, so a later fsync has
 * less left to do. Does nothing without the addon; errors are left for that fsync to report.
 */
export function startWriteback(fd: number, offset: number, length: number): void {
  try {
    nativeFileIo()?.startWriteback(fd, offset, length);
  } catch {}
}
