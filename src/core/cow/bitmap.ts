// The overlay bitmap: bit s (byte s/8, least significant bit first) set means sector s lives in the overlay.

export const isDirty = (bitmap: Uint8Array, sector: number): boolean =>
  (((bitmap[sector >>> 3] ?? 0) >>> (sector & 7)) & 1) === 1;

export function markDirty(bitmap: Uint8Array, sector: number): void {
  const i = sector >>> 3;
  bitmap[i] = (bitmap[i] ?? 0) | (1 << (sector & 7));
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v !== 0; v >>>= 1) n += v & 1;
  return n;
});

/** Dirty sectors among the first `sectors`; bits past them (padding in the last byte) are ignored. */
export function countDirty(bitmap: Uint8Array, sectors: number): number {
  const full = Math.min(sectors >>> 3, bitmap.length);
  let n = 0;
  for (let i = 0; i < full; i++) n += POPCOUNT[bitmap[i] as number] as number;
  for (let s = full * 8; s < sectors; s++) if (isDirty(bitmap, s)) n++;
  return n;
}

/** Highest dirty sector below `sectors`, or -1 when none is. */
export function lastDirty(bitmap: Uint8Array, sectors: number): number {
  for (let i = Math.min(Math.ceil(sectors / 8), bitmap.length) - 1; i >= 0; i--) {
    const b = bitmap[i] as number;
    if (b === 0) continue;
    for (let bit = 7; bit >= 0; bit--) {
      const s = i * 8 + bit;
      if (s < sectors && ((b >>> bit) & 1) === 1) return s;
    }
  }
  return -1;
}

export interface SectorRun {
  readonly start: number;
  readonly count: number;
}

/**
 * Append to `out` the maximal runs of dirty sectors in [from, to), in order. `from` must be a multiple of 8.
 * Whole 0x00 and 0xff bytes take one step: bitmaps are mostly one or the other, and this loop is on the hot
 * path of merge and commit.
 */
export function collectRuns(bitmap: Uint8Array, from: number, to: number, out: SectorRun[]): void {
  let start = -1;
  const endByte = Math.min(Math.ceil(to / 8), bitmap.length);
  const end = Math.min(to, endByte * 8);
  for (let i = from >>> 3; i < endByte; i++) {
    const b = bitmap[i] as number;
    const base = i * 8;
    if (base + 8 <= end) {
      if (b === 0) {
        if (start >= 0) {
          out.push({ start, count: base - start });
          start = -1;
        }
        continue;
      }
      if (b === 0xff) {
        if (start < 0) start = base;
        continue;
      }
    }
    for (let bit = 0; bit < 8; bit++) {
      const s = base + bit;
      if (s >= end) break;
      if (((b >>> bit) & 1) === 1) {
        if (start < 0) start = s;
      } else if (start >= 0) {
        out.push({ start, count: s - start });
        start = -1;
      }
    }
  }
  if (start >= 0) out.push({ start, count: end - start });
}

/** Maximal runs of consecutive dirty sectors below `sectors`, in order. */
export function* dirtyRuns(bitmap: Uint8Array, sectors: number): Generator<SectorRun> {
  const out: SectorRun[] = [];
  collectRuns(bitmap, 0, sectors, out);
  yield* out;
}
