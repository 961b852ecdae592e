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
 * Maximal runs of consecutive dirty sectors below `sectors`, in order. Whole 0x00 and 0xff bytes are
 * stepped over at once: bitmaps are mostly one or the other.
 */
export function* dirtyRuns(bitmap: Uint8Array, sectors: number): Generator<SectorRun> {
  let start = -1;
  const bytes = Math.min(Math.ceil(sectors / 8), bitmap.length);
  for (let i = 0; i < bytes; i++) {
    const b = bitmap[i] as number;
    const base = i * 8;
    if (b === 0 && start < 0) continue;
    if (b === 0xff && start >= 0 && base + 8 <= sectors) continue;
    for (let bit = 0; bit < 8; bit++) {
      const s = base + bit;
      if (s >= sectors) break;
      if (((b >>> bit) & 1) === 1) {
        if (start < 0) start = s;
      } else if (start >= 0) {
        yield { start, count: s - start };
        start = -1;
      }
    }
  }
  if (start >= 0) yield { start, count: Math.min(sectors, bytes * 8) - start };
}
