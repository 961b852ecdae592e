// What an overlay changed: the written byte ranges, and for an ext2/3/4 disk the files, read through a merged
// base+overlay view without writing anything.
import { isDirty } from '../../core/cow/bitmap.ts';
import { type ByteExtent, dirtyExtents, touchedBlocks } from '../../core/cow/extents.ts';
import { changedFiles, type FilesystemDiff, type ReadAt } from '../../core/ext4/changed-files.ts';
import { decodeSuperblock } from '../../core/ext4/superblock.ts';
import { assertNoPendingMerge } from './commit.ts';
import {
  closeQuietly,
  type OpenedBase,
  type OpenedOverlay,
  openMatchingBase,
  openOverlay,
  readFully,
  readZeroPadded,
} from './open-overlay.ts';

export interface OverlayDiff {
  readonly overlay: string;
  readonly base: string;
  readonly sizeBytes: number;
  readonly dirtySectors: number;
  readonly extents: ByteExtent[];
  /** null when the disk holds no filesystem umlkit can read; then only extents are known. */
  readonly filesystem: FilesystemDiff | null;
}

function baseReader(base: OpenedBase, size: number): ReadAt {
  return (offset, length) => {
    const buf = Buffer.alloc(length);
    if (offset < size) readZeroPadded(base.fd, buf, Math.min(length, size - offset), offset, base.path);
    return buf;
  };
}

/** Reads of the disk the guest sees: each sector from the overlay when its bit is set, else from the base. */
function mergedReader(overlay: OpenedOverlay, readBase: ReadAt): ReadAt {
  const ss = overlay.header.sectorSize;
  return (offset, length) => {
    const buf = Buffer.from(readBase(offset, length));
    const first = Math.floor(offset / ss);
    const last = Math.min(Math.floor((offset + length - 1) / ss), overlay.layout.mappedSectors - 1);
    for (let s = first; s <= last; s++) {
      if (!isDirty(overlay.bitmap, s)) continue;
      const sector = Buffer.alloc(ss);
      readFully(overlay.fd, sector, overlay.layout.dataOffset + s * ss, overlay.path);
      const from = Math.max(s * ss, offset);
      const to = Math.min((s + 1) * ss, offset + length);
      sector.copy(buf, from - offset, from - s * ss, to - s * ss);
    }
    return buf;
  };
}

export function diffOverlay(
  overlayPath: string,
  options: { basePath?: string; files?: boolean } = {},
): OverlayDiff {
  const overlay = openOverlay(overlayPath);
  let base: OpenedBase | undefined;
  try {
    assertNoPendingMerge(overlay.path);
    base = openMatchingBase(overlay, options.basePath);
    const { header, layout } = overlay;
    const extents = dirtyExtents(overlay.bitmap, layout.mappedSectors, header.sectorSize, header.sizeBytes);
    let filesystem: FilesystemDiff | null = null;
    if (options.files ?? true) {
      const readBase = baseReader(base, header.sizeBytes);
      const readMerged = mergedReader(overlay, readBase);
      const g = decodeSuperblock(readMerged(1024, 1024));
      if (g) filesystem = changedFiles(readBase, readMerged, touchedBlocks(extents, g.blockSize)) ?? null;
    }
    return {
      overlay: overlay.path,
      base: base.path,
      sizeBytes: header.sizeBytes,
      dirtySectors: overlay.dirtySectors,
      extents,
      filesystem,
    };
  } finally {
    closeQuietly(base?.fd);
    closeQuietly(overlay.fd);
  }
}
