// Writes an overlay's sectors into its base in place (what `uml_moo -d` does), journaled so that an
// interruption can be finished by running the merge again. The only code in umlkit that writes a base.
import { fsyncSync, futimesSync, mkdirSync } from 'node:fs';
import { checkBase } from '../../core/cow/backing-check.ts';
import type { SectorRun } from '../../core/cow/bitmap.ts';
import { chooseMergeMode, dirtyWindowRanges, dirtyWindows, WINDOW_SECTORS } from '../../core/cow/windows.ts';
import { quote, UmlError } from '../../core/errors.ts';
import { acquireDiskLocks } from '../disk-lock.ts';
import { type CopyError, type FileIoBinding, nativeFileIo } from '../file-io.ts';
import { currentProcessIdentity } from '../process-identity.ts';
import { type BackgroundFlush, backgroundFlush } from './background-flush.ts';
import { assertNotInUse } from './in-use.ts';
import { MAPPED_CHUNK_SECTORS, MEMORY_FILESYSTEMS, mappedMerge, mappedMergeThreads } from './mapped-merge.ts';
import { type MergeJournal, readJournal, removeJournal, writeJournal } from './merge-journal.ts';
import {
  closeQuietly,
  type OpenedBase,
  type OpenedOverlay,
  openBase,
  openOverlay,
  readFully,
  readZeroPadded,
  recordedBasePath,
  refreshBaseFacts,
} from './open-overlay.ts';
import { BLOCK_BYTES, isZeroRange, writeAll, writeKeptBlocks } from './sparse-write.ts';

export interface MergeOptions {
  readonly stateDir?: string;
  /** Merge into this file instead of the header's base (like `uml_moo -b`); it must still match. */
  readonly basePath?: string;
  /** Called every window with sectors done so far and the total dirty sectors. */
  readonly onProgress?: (doneSectors: number, totalSectors: number) => void;
  /** Test hook: called before each window is written; throwing from it simulates an interruption. */
  readonly beforeWindow?: (windowIndex: number) => void;
}

export type MergeEngine = 'mapped' | 'addon' | 'javascript' | 'none';

export interface MergeResult {
  readonly basePath: string;
  readonly sectors: number;
  readonly bytes: number;
  /** Write calls made (for the mapped merge, runs copied: it makes no write calls). */
  readonly writes: number;
  /** How the sectors were copied: mapped (tmpfs, threads), addon (copy_file_range and clusters), javascript; none when there were none. */
  readonly engine: MergeEngine;
  readonly resumed: boolean;
  readonly elapsedMs: number;
}

/** Above this many runs in a window, the overlay's span is read once instead of run by run. */
const SPAN_READ_RUNS = 32;

/**
 * With the addon, on a filesystem with a device behind it: runs whose pages are at most this far apart are
 * written as one cluster, their clean pages in between rewritten with the bytes they hold. Measured on this
 * project's virtio disk, a flush pays ~8 µs per request and ~2.4 µs per 4 KiB, so filling a gap of up to 3
 * pages costs less than the request it saves (docs/cow.md).
 */
const CLUSTER_GAP_BYTES = 3 * 4096;

const sameJournal = (j: MergeJournal, o: OpenedOverlay, b: OpenedBase): boolean =>
  j.overlayDev === o.dev &&
  j.overlayIno === o.ino &&
  j.baseDev === b.dev &&
  j.baseIno === b.ino &&
  j.baseSize === b.sizeBytes &&
  j.recordedMtime === o.header.mtime;

/**
 * @throws {UmlError} COW_IN_USE, COW_MISMATCH (base changed since the overlay was made), COW_BASE_MISSING,
 *   COW_MERGE_INCOMPLETE (a journal for another base), COW_INVALID, COW_IO.
 */
export async function mergeOverlay(overlayPath: string, options: MergeOptions = {}): Promise<MergeResult> {
  const started = performance.now();
  const overlay = openOverlay(overlayPath);
  let base: OpenedBase | undefined;
  let release: (() => void) | undefined;
  try {
    const basePath = options.basePath ?? recordedBasePath(overlay);
    // Both files: a machine on the overlay is still writing it; one on the base reads it as a disk.
    assertNotInUse(options.stateDir, overlay.path, 'overlay', 'merge it');
    assertNotInUse(options.stateDir, basePath, 'base', 'merge into it');
    base = openBase(basePath, true);
    const journal = readJournal(overlay.path);
    const resumed = journal !== undefined && sameJournal(journal, overlay, base);
    if (journal && !resumed) {
      throw new UmlError(
        'COW_MERGE_INCOMPLETE',
        `an earlier merge of ${quote(overlay.path)} into ${quote(journal.base)} did not finish, and ${quote(basePath)} is not that base`,
        {
          hint: `finish that merge with \`umlkit cow merge ${overlay.path} --base ${journal.base}\`, or if that base is gone, delete ${quote(`${overlay.path}.merging`)}`,
        },
      );
    }
    // An interrupted merge already changed the base's mtime (and some sectors): the journal, not the mtime,
    // proves it is still the right base. Writing the same sectors again is harmless.
    if (!resumed) checkBase(overlay.path, overlay.header, base);
    if (options.stateDir) {
      mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
      release = acquireDiskLocks(
        options.stateDir,
        [
          { path: overlay.path, mode: 'rw' },
          { path: basePath, mode: 'rw' },
        ],
        { ...currentProcessIdentity(), machine: '(umlkit cow merge)' },
      );
    }
    if (overlay.dirtySectors === 0) {
      return {
        basePath,
        sectors: 0,
        bytes: 0,
        writes: 0,
        engine: 'none',
        resumed,
        elapsedMs: performance.now() - started,
      };
    }
    if (!resumed) {
      writeJournal({
        version: 1,
        overlay: overlay.path,
        overlayDev: overlay.dev,
        overlayIno: overlay.ino,
        base: basePath,
        baseDev: base.dev,
        baseIno: base.ino,
        baseSize: base.sizeBytes,
        recordedMtime: overlay.header.mtime,
        startedAt: new Date().toISOString(),
      });
    }
    const flush = backgroundFlush(base.fd);
    let copied: { writes: number; engine: MergeEngine };
    try {
      copied = await copyIntoBase(overlay, base, options, flush.wrote);
    } catch (err) {
      flush.abandon(); // its thread must be gone before the base's fd is closed
      throw err;
    }
    // Durable before the journal goes: a crash after that must never leave a half-merged base unmarked.
    await flush.finish();
    // The base changed, so every other overlay of it must stop matching. Writing set its mtime to now; if
    // that is still the recorded second, the kernel's whole-second check could not tell, so step past it.
    const after = refreshBaseFacts(base);
    if (after.mtime === overlay.header.mtime) {
      futimesSync(base.fd, new Date(), overlay.header.mtime + 1);
      fsyncSync(base.fd);
    }
    removeJournal(overlay.path);
    return {
      basePath,
      sectors: overlay.dirtySectors,
      bytes: Math.min(overlay.dirtySectors * overlay.header.sectorSize, overlay.header.sizeBytes),
      ...copied,
      resumed,
      elapsedMs: performance.now() - started,
    };
  } finally {
    release?.();
    closeQuietly(base?.fd);
    closeQuietly(overlay.fd);
  }
}

/**
 * The addon's merge: the bitmap is scanned in C, so a window costs one call from JavaScript. On a disk, runs
 * a few pages apart are merged into one read-patch-write of the base (fewer, longer device requests); a lone
 * run is one copy_file_range. On tmpfs or ramfs the mapped merge of mapped-merge.ts copies, 64 MiB per call,
 * or where the kernel cannot populate mappings, one copy_file_range per run (no device, so no request to
 * save: clusters would only copy more bytes). Clean all-zero pages are never written, so the holes of a
 * sparse base stay holes.
 */
async function copyIntoBaseNative(
  native: FileIoBinding,
  overlay: OpenedOverlay,
  base: OpenedBase,
  options: MergeOptions,
  wrote: BackgroundFlush['wrote'],
): Promise<{ writes: number; engine: MergeEngine }> {
  const { layout, header } = overlay;
  const ss = header.sectorSize;
  let memory = false;
  try {
    memory = MEMORY_FILESYSTEMS.has(native.fsType(base.fd));
  } catch {}
  const mapped = memory ? mappedMerge() : null;
  if (mapped) {
    const mergeMapped = (from: number, to: number, threads: number) =>
      mapped.mergeMapped(
        overlay.fd,
        base.fd,
        overlay.bitmap,
        from,
        to,
        layout.dataOffset,
        ss,
        header.sizeBytes,
        threads,
      );
    if (canPopulate(() => mergeMapped(0, 0, 1), overlay, base)) {
      const threads = mappedMergeThreads();
      const writes = await eachWindow(overlay, base, options, wrote, MAPPED_CHUNK_SECTORS, (from, to) =>
        mergeMapped(from, to, threads),
      );
      return { writes, engine: 'mapped' };
    }
  }
  const gap = memory ? 0 : CLUSTER_GAP_BYTES;
  const writes = await eachWindow(overlay, base, options, wrote, WINDOW_SECTORS, (from, to) =>
    native.mergeBitmapWindow(
      overlay.fd,
      base.fd,
      overlay.bitmap,
      from,
      to,
      layout.dataOffset,
      ss,
      header.sizeBytes,
      gap,
    ),
  );
  return { writes, engine: 'addon' };
}

/**
 * Whether this kernel can populate mappings (MADV_POPULATE_WRITE, Linux 5.14): `probe`, a mapped merge of
 * no sectors, tells.
 */
function canPopulate(probe: () => unknown, overlay: OpenedOverlay, base: OpenedBase): boolean {
  try {
    probe();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return false;
    throw copyError(err, overlay, base);
  }
}

/**
 * The window loop of the addon's merges: `copy` merges sectors [from, to) and returns its bytes and runs.
 * Around it: the interruption hook, the background flush, progress, and a turn for the terminal and for
 * signals every 50 ms (each call is synchronous). Returns the runs (or writes) the calls counted.
 */
async function eachWindow(
  overlay: OpenedOverlay,
  base: OpenedBase,
  options: MergeOptions,
  wrote: BackgroundFlush['wrote'],
  windowSectors: number,
  copy: (from: number, to: number) => [bytes: number, runs: number],
): Promise<number> {
  const ss = overlay.header.sectorSize;
  let done = 0;
  let counted = 0;
  let index = 0;
  let lastYield = performance.now();
  for (const w of dirtyWindowRanges(overlay.bitmap, overlay.layout.mappedSectors, windowSectors)) {
    options.beforeWindow?.(index++);
    let bytes: number;
    let runs: number;
    try {
      [bytes, runs] = copy(w.start, w.start + w.count);
    } catch (err) {
      throw copyError(err, overlay, base);
    }
    wrote(bytes, [w.start * ss, w.count * ss]);
    counted += runs;
    done += Math.ceil(bytes / ss);
    if (performance.now() - lastYield > 50) {
      options.onProgress?.(done, overlay.dirtySectors);
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  options.onProgress?.(overlay.dirtySectors, overlay.dirtySectors);
  return counted;
}

/** A failed native copy as COW_IO naming the file: the overlay when it ended or a read failed, else the base. */
function copyError(err: unknown, overlay: OpenedOverlay, base: OpenedBase): UmlError {
  const e = err as CopyError;
  if (e.code === 'EOF' && e.file === 'base') {
    return new UmlError('COW_IO', `${quote(base.path)} ended while umlkit merged into it`, {
      cause: err,
      hint: 'the base was truncated during the merge; is another program changing it?',
    });
  }
  if (e.code === 'EOF') {
    return new UmlError('COW_IO', `${quote(overlay.path)} ended while its written sectors were copied`, {
      cause: err,
      hint: 'the file was truncated while umlkit read it; is another program changing it?',
    });
  }
  // The mapped merge (tmpfs): a mapped access faulted, or the pages could not be made present.
  if (e.syscall === 'access') {
    return new UmlError(
      'COW_IO',
      `${quote(base.path)} or ${quote(overlay.path)} got shorter while umlkit merged`,
      {
        cause: err,
        hint: 'is another program changing them? When it is done, run the merge again: it resumes',
      },
    );
  }
  if (e.syscall === 'madvise' || e.syscall === 'mmap') {
    return new UmlError('COW_IO', `cannot map the pages of ${quote(base.path)} to merge into: ${e.code}`, {
      cause: err,
      hint: 'the tmpfs that holds the base may be full, or memory short; free some and run the merge again: it resumes',
    });
  }
  // copy_file_range fails for either file; a failure to write is the likelier, and only a write fills a disk.
  const reading = e.syscall === 'pread';
  return new UmlError(
    'COW_IO',
    `cannot ${reading ? `read ${quote(overlay.path)}` : `copy into ${quote(base.path)} at offset ${e.offset}`}: ${e.code ?? e.message}`,
    {
      cause: err,
      hint:
        e.code === 'ENOSPC'
          ? 'the host filesystem is full; free space and run the command again'
          : 'check the disk',
    },
  );
}

/** Without the addon: the same copy in JavaScript, run by run or window by window (see docs/cow.md). */
async function copyIntoBase(
  overlay: OpenedOverlay,
  base: OpenedBase,
  options: MergeOptions,
  wrote: BackgroundFlush['wrote'],
): Promise<{ writes: number; engine: MergeEngine }> {
  const native = nativeFileIo();
  if (native) return copyIntoBaseNative(native, overlay, base, options, wrote);
  const { layout, header } = overlay;
  const ss = header.sectorSize;
  const size = header.sizeBytes;
  const data = Buffer.alloc(WINDOW_SECTORS * ss);
  const merged = Buffer.alloc(WINDOW_SECTORS * ss);
  let done = 0;
  let writes = 0;
  let index = 0;
  let lastYield = performance.now();
  for (const w of dirtyWindows(overlay.bitmap, layout.mappedSectors)) {
    options.beforeWindow?.(index++);
    const windowPos = w.start * ss;
    const windowLen = Math.min(w.count * ss, size - windowPos);
    if (chooseMergeMode(w) === 'runs') {
      // Many runs: one read of the overlay's span beats one read per run; few runs: read just them.
      const spanRead = w.runs.length > SPAN_READ_RUNS;
      if (spanRead) {
        const first = (w.runs[0] as SectorRun).start * ss;
        const last = w.runs[w.runs.length - 1] as SectorRun;
        const end = Math.min((last.start + last.count) * ss, size);
        readFully(
          overlay.fd,
          data.subarray(first - windowPos, end - windowPos),
          layout.dataOffset + first,
          overlay.path,
        );
      }
      for (const r of w.runs) {
        const pos = r.start * ss;
        const len = Math.min(r.count * ss, size - pos);
        const at = spanRead ? pos - windowPos : 0;
        if (!spanRead) readFully(overlay.fd, data.subarray(0, len), layout.dataOffset + pos, overlay.path);
        writeAll(base.fd, data, at, len, pos, base.path);
        wrote(len);
        writes++;
      }
    } else {
      // Many short runs: read the window of both files once, patch, write back. Clean blocks are rewritten
      // with the bytes they already hold (harmless even if interrupted), except all-zero ones, which may be
      // holes of a sparse base that writing would fill.
      readZeroPadded(base.fd, merged, windowLen, windowPos, base.path);
      const first = (w.runs[0]?.start ?? w.start) - w.start;
      const lastRun = w.runs[w.runs.length - 1];
      const end = Math.min(((lastRun?.start ?? w.start) + (lastRun?.count ?? 0) - w.start) * ss, windowLen);
      readFully(
        overlay.fd,
        data.subarray(first * ss, end),
        layout.dataOffset + windowPos + first * ss,
        overlay.path,
      );
      const dirtyBlock = new Uint8Array(Math.ceil(windowLen / BLOCK_BYTES));
      for (const r of w.runs) {
        const from = (r.start - w.start) * ss;
        const to = Math.min(from + r.count * ss, windowLen);
        data.copy(merged, from, from, to);
        for (let b = Math.floor(from / BLOCK_BYTES); b * BLOCK_BYTES < to; b++) dirtyBlock[b] = 1;
      }
      writes += writeKeptBlocks(base.fd, merged, windowLen, windowPos, base.path, (s, e) =>
        dirtyBlock[s / BLOCK_BYTES] === 1 ? true : !isZeroRange(merged, s, e),
      );
      wrote(windowLen);
    }
    done += w.dirty;
    if (performance.now() - lastYield > 50) {
      options.onProgress?.(done, overlay.dirtySectors);
      // Let the terminal redraw and signals arrive: this is a long synchronous loop otherwise.
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  options.onProgress?.(done, overlay.dirtySectors);
  return { writes, engine: 'javascript' };
}
