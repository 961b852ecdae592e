// Groups an overlay's dirty sectors into fixed windows, so merge and commit can move data in a few large I/Os
// instead of one system call per sector (which is what makes uml_moo slow).
import { collectRuns, type SectorRun } from './bitmap.ts';

export interface SectorWindow {
  readonly start: number;
  /** Sectors in this window (the last one may be shorter). */
  readonly count: number;
  /** Dirty runs inside the window, clipped to it, in order; empty for a clean window. */
  readonly runs: readonly SectorRun[];
  readonly dirty: number;
}

/** 2048 sectors = 1 MiB: large enough to amortise a system call, small enough to stay in the CPU caches. */
export const WINDOW_SECTORS = 2048;

/** Every window of the disk, clean ones included (commit copies those from the base). */
export function* sectorWindows(
  bitmap: Uint8Array,
  sectors: number,
  windowSectors = WINDOW_SECTORS,
): Generator<SectorWindow> {
  for (let start = 0; start < sectors; start += windowSectors) {
    const count = Math.min(windowSectors, sectors - start);
    yield { start, count, ...windowRuns(bitmap, start, count) };
  }
}

/** Only the windows with at least one dirty sector (merge touches nothing else). */
export function* dirtyWindows(
  bitmap: Uint8Array,
  sectors: number,
  windowSectors = WINDOW_SECTORS,
): Generator<SectorWindow> {
  for (let start = 0; start < sectors; start += windowSectors) {
    const count = Math.min(windowSectors, sectors - start);
    if (!anyBitSet(bitmap, start, count)) continue;
    const runs = windowRuns(bitmap, start, count);
    // A set padding bit past the last sector makes anyBitSet true with nothing to do.
    if (runs.dirty > 0) yield { start, count, ...runs };
  }
}

/**
 * The windows with any bit set, without their runs: for a merge that finds the runs in native code. A set
 * padding bit past the last sector can yield a window with nothing to copy.
 */
export function* dirtyWindowRanges(
  bitmap: Uint8Array,
  sectors: number,
  windowSectors = WINDOW_SECTORS,
): Generator<{ readonly start: number; readonly count: number }> {
  for (let start = 0; start < sectors; start += windowSectors) {
    const count = Math.min(windowSectors, sectors - start);
    if (anyBitSet(bitmap, start, count)) yield { start, count };
  }
}

function anyBitSet(bitmap: Uint8Array, start: number, count: number): boolean {
  // Windows start on a byte boundary (windowSectors is a multiple of 8), so whole bytes can be tested.
  const end = Math.min(Math.ceil((start + count) / 8), bitmap.length);
  for (let i = start >>> 3; i < end; i++) if (bitmap[i] !== 0) return true;
  return false;
}

function windowRuns(bitmap: Uint8Array, start: number, count: number): { runs: SectorRun[]; dirty: number } {
  const runs: SectorRun[] = [];
  collectRuns(bitmap, start, start + count, runs);
  let dirty = 0;
  for (const r of runs) dirty += r.count;
  return { runs, dirty };
}

/**
 * How to write one window of a merge. Per run costs two system calls per run; read-modify-write costs three
 * 1 MiB copies. Measured on this project's 2-core host, a run costs about 2 µs and a 1 MiB copy about 150 µs,
 * so above ~200 runs per MiB the window is cheaper as one read-modify-write.
 */
export function chooseMergeMode(window: SectorWindow): 'runs' | 'rewrite' {
  return window.runs.length * 2 > (window.count / WINDOW_SECTORS) * 450 ? 'rewrite' : 'runs';
}
