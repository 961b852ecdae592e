// The changed parts of a disk as byte extents and as filesystem blocks, from an overlay's bitmap.
import { dirtyRuns } from './bitmap.ts';

export interface ByteExtent {
  readonly offset: number;
  readonly length: number;
}

/** Runs of written sectors as byte ranges of the disk, clipped to its size. */
export function dirtyExtents(
  bitmap: Uint8Array,
  sectors: number,
  sectorSize: number,
  sizeBytes: number,
): ByteExtent[] {
  const out: ByteExtent[] = [];
  for (const r of dirtyRuns(bitmap, sectors)) {
    const offset = r.start * sectorSize;
    out.push({ offset, length: Math.min(r.count * sectorSize, sizeBytes - offset) });
  }
  return out;
}

/** Filesystem blocks of `blockSize` touched by any written sector, ascending and without repeats. */
export function touchedBlocks(extents: readonly ByteExtent[], blockSize: number): number[] {
  const out: number[] = [];
  for (const e of extents) {
    const first = Math.floor(e.offset / blockSize);
    const last = Math.floor((e.offset + e.length - 1) / blockSize);
    for (let b = Math.max(first, (out[out.length - 1] ?? -1) + 1); b <= last; b++) out.push(b);
  }
  return out;
}
