// Flattens base + overlay into a new standalone image (what `uml_moo COW NEW` does), sparse, written under a
// temporary name and renamed into place only when complete. Neither input is modified.
import { closeSync, constants, ftruncateSync, linkSync, openSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { sectorWindows, WINDOW_SECTORS } from '../../core/cow/windows.ts';
import { quote, UmlError } from '../../core/errors.ts';
import { backgroundFlush } from './background-flush.ts';
import { fsyncDir } from './create.ts';
import { assertNotInUse } from './in-use.ts';
import { readJournal } from './merge-journal.ts';
import {
  closeQuietly,
  type OpenedBase,
  openMatchingBase,
  openOverlay,
  readFully,
  readZeroPadded,
} from './open-overlay.ts';
import { isZeroRange, writeKeptBlocks } from './sparse-write.ts';

export interface CommitOptions {
  readonly stateDir?: string;
  readonly basePath?: string;
  readonly cwd?: string;
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface CommitResult {
  readonly outputPath: string;
  readonly basePath: string;
  readonly sizeBytes: number;
  readonly dirtySectors: number;
  readonly elapsedMs: number;
}

/** @throws {UmlError} COW_MERGE_INCOMPLETE when a merge of this overlay was interrupted. */
export function assertNoPendingMerge(overlayPath: string): void {
  const j = readJournal(overlayPath);
  if (!j) return;
  throw new UmlError(
    'COW_MERGE_INCOMPLETE',
    `a merge of ${quote(overlayPath)} into ${quote(j.base)} started at ${j.startedAt} did not finish; the base is half merged`,
    {
      hint: `finish it with \`umlkit cow merge ${overlayPath}\` (it is safe to run again), then use the base`,
    },
  );
}

export async function commitOverlay(
  overlayPath: string,
  outputPath: string,
  options: CommitOptions = {},
): Promise<CommitResult> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const output = resolve(cwd, outputPath);
  const overlay = openOverlay(resolve(cwd, overlayPath));
  let base: OpenedBase | undefined;
  let fd: number | undefined;
  let tmp: string | undefined;
  try {
    assertNoPendingMerge(overlay.path);
    // A running machine would change the overlay while we read it; readers of the base are harmless.
    assertNotInUse(options.stateDir, overlay.path, 'overlay', 'commit it');
    base = openMatchingBase(overlay, options.basePath ? resolve(cwd, options.basePath) : undefined);
    assertNotInUse(options.stateDir, base.path, 'base', 'commit an overlay of it', true);
    tmp = join(dirname(output), `.${basename(output)}.tmp-${process.pid}-${Date.now().toString(36)}`);
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    } catch (err) {
      throw new UmlError(
        'COW_IO',
        `cannot create a file in ${quote(dirname(output))}: ${(err as Error).message}`,
        {
          cause: err,
          hint: 'check that the directory exists and is writable',
        },
      );
    }
    const { header, layout } = overlay;
    const ss = header.sectorSize;
    const size = header.sizeBytes;
    const buf = Buffer.alloc(WINDOW_SECTORS * ss);
    const data = Buffer.alloc(WINDOW_SECTORS * ss);
    let lastYield = performance.now();
    const flush = backgroundFlush(fd);
    for (const w of sectorWindows(overlay.bitmap, layout.sectors)) {
      const pos = w.start * ss;
      const len = Math.min(w.count * ss, size - pos);
      readZeroPadded(base.fd, buf, len, pos, base.path);
      if (w.runs.length > 0) {
        const first = (w.runs[0] as { start: number }).start - w.start;
        const last = w.runs[w.runs.length - 1] as { start: number; count: number };
        const end = Math.min((last.start + last.count - w.start) * ss, len);
        readFully(
          overlay.fd,
          data.subarray(first * ss, end),
          layout.dataOffset + pos + first * ss,
          overlay.path,
        );
        for (const r of w.runs) {
          const from = (r.start - w.start) * ss;
          data.copy(buf, from, from, Math.min(from + r.count * ss, len));
        }
      }
      // The new file is one hole until written: skipping zero blocks keeps it as sparse as it can be.
      writeKeptBlocks(fd, buf, len, pos, tmp, (s, e) => !isZeroRange(buf, s, e));
      flush.wrote(len, [pos, len]);
      if (performance.now() - lastYield > 50) {
        options.onProgress?.(pos + len, size);
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
    ftruncateSync(fd, size);
    await flush.finish();
    closeSync(fd);
    fd = undefined;
    try {
      linkSync(tmp, output);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UmlError('DISK_EXISTS', `${quote(outputPath)} already exists`, {
          hint: 'commit writes a new image and never replaces a file; pick another name or remove the old one',
        });
      }
      throw new UmlError('COW_IO', `cannot create ${quote(outputPath)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    fsyncDir(dirname(output));
    options.onProgress?.(size, size);
    return {
      outputPath: output,
      basePath: base.path,
      sizeBytes: size,
      dirtySectors: overlay.dirtySectors,
      elapsedMs: performance.now() - started,
    };
  } finally {
    closeQuietly(fd);
    closeQuietly(base?.fd);
    closeQuietly(overlay.fd);
    if (tmp) {
      try {
        unlinkSync(tmp);
      } catch {}
    }
  }
}
