// Where an overlay's bitmap and data area lie, derived from its header exactly as the kernel derives them.
import { quote, UmlError } from '../errors.ts';
import type { CowHeader } from './format.ts';

export interface CowLayout {
  readonly bitmapOffset: number;
  readonly bitmapBytes: number;
  /** Sector s of the disk lives at dataOffset + s * sectorSize when its bit is set. */
  readonly dataOffset: number;
  /** Sectors of the disk: the last one may be partial when the size is not a multiple of 512. */
  readonly sectors: number;
  /** Sectors that have a bit; fewer than `sectors` only for v1/v2 with their historic rounding down. */
  readonly mappedSectors: number;
  /** The length a creator gives the file: the data area is as long as the disk, and sparse. */
  readonly fullFileBytes: number;
}

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

export function cowLayout(header: CowHeader): CowLayout {
  const { sizeBytes, sectorSize, alignment } = header;
  const sectors = Math.ceil(sizeBytes / sectorSize);
  let bitmapOffset: number;
  let bitmapBytes: number;
  let dataOffset: number;
  if (header.version < 3) {
    // The kernel's historic formula rounds down, so a disk whose size is not a multiple of 8 sectors has a
    // last few sectors without a bit; they always read from the base.
    bitmapOffset = header.headerBytes;
    bitmapBytes = Math.floor((sizeBytes + sectorSize - 1) / (8 * sectorSize));
    dataOffset = roundUp(bitmapOffset + bitmapBytes, sectorSize);
  } else {
    bitmapOffset = roundUp(header.headerBytes, alignment);
    bitmapBytes = Math.ceil(sectors / 8);
    dataOffset = roundUp(bitmapOffset + bitmapBytes, alignment);
  }
  return {
    bitmapOffset,
    bitmapBytes,
    dataOffset,
    sectors,
    mappedSectors: Math.min(sectors, bitmapBytes * 8),
    fullFileBytes: dataOffset + sizeBytes,
  };
}

/**
 * Check that the bitmap and the start of the data area lie inside a file of `fileBytes`.
 * @throws {UmlError} COW_INVALID naming the offset that points past the end.
 */
export function checkLayoutFits(layout: CowLayout, fileBytes: number, overlay: string): void {
  const hint = 'the overlay is truncated or its header is damaged; restore it from a copy';
  if (layout.bitmapOffset + layout.bitmapBytes > fileBytes) {
    throw new UmlError(
      'COW_INVALID',
      `overlay ${quote(overlay)}: its bitmap (${layout.bitmapBytes} bytes at offset ${layout.bitmapOffset}) extends past the end of the file (${fileBytes} bytes)`,
      { hint, issues: [{ path: 'bitmap', message: 'past the end of the file' }] },
    );
  }
  if (layout.dataOffset > fileBytes) {
    throw new UmlError(
      'COW_INVALID',
      `overlay ${quote(overlay)}: its data area starts at offset ${layout.dataOffset}, past the end of the file (${fileBytes} bytes)`,
      { hint, issues: [{ path: 'data', message: 'past the end of the file' }] },
    );
  }
}

/**
 * Check that the data of the last dirty sector lies inside the file: a kernel-written overlay always has it,
 * so a shorter file lost data, and reading it as zeros would hide that.
 * @throws {UmlError} COW_INVALID
 */
export function checkDirtyDataFits(
  layout: CowLayout,
  sectorSize: number,
  sizeBytes: number,
  lastDirty: number,
  fileBytes: number,
  overlay: string,
): void {
  if (lastDirty < 0) return;
  const end = layout.dataOffset + Math.min((lastDirty + 1) * sectorSize, sizeBytes);
  if (end > fileBytes) {
    throw new UmlError(
      'COW_INVALID',
      `overlay ${quote(overlay)}: sector ${lastDirty} is marked written but its data (up to offset ${end}) lies past the end of the file (${fileBytes} bytes)`,
      {
        hint: 'the overlay was truncated after it was written; restore it from a copy',
        issues: [{ path: 'data', message: 'dirty sector past the end of the file' }],
      },
    );
  }
}
