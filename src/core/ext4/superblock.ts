// The ext2/3/4 superblock and group descriptor fields needed to find inodes: a read-only, bounds-checked decoder.

export const EXT4_MAGIC = 0xef53;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_META_BG = 0x10;

export interface Ext4Geometry {
  readonly blockSize: number;
  readonly blocksCount: number;
  readonly inodesCount: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly inodeSize: number;
  readonly firstDataBlock: number;
  /** First inode that is not reserved (11 unless the creator chose otherwise). */
  readonly firstIno: number;
  readonly groups: number;
  readonly descSize: number;
  readonly is64bit: boolean;
  readonly metaBg: boolean;
}

/** Bytes 1024..2047 of a disk; undefined when they are not a sane ext superblock (not an error: any disk may be given). */
export function decodeSuperblock(sb: Uint8Array): Ext4Geometry | undefined {
  if (sb.length < 1024) return undefined;
  const v = new DataView(sb.buffer, sb.byteOffset, 1024);
  if (v.getUint16(56, true) !== EXT4_MAGIC) return undefined;
  const logBlock = v.getUint32(24, true);
  if (logBlock > 6) return undefined; // 1 KiB to 64 KiB
  const blockSize = 1024 << logBlock;
  const incompat = v.getUint32(96, true);
  const is64bit = (incompat & INCOMPAT_64BIT) !== 0;
  const revLevel = v.getUint32(76, true);
  const inodeSize = revLevel === 0 ? 128 : v.getUint16(88, true);
  const firstIno = revLevel === 0 ? 11 : v.getUint32(84, true);
  const blocksCount = v.getUint32(4, true) + (is64bit ? v.getUint32(0x150, true) * 2 ** 32 : 0);
  const blocksPerGroup = v.getUint32(32, true);
  const inodesPerGroup = v.getUint32(40, true);
  const descSize = is64bit ? v.getUint16(254, true) : 32;
  const sane =
    inodeSize >= 128 &&
    inodeSize <= blockSize &&
    (inodeSize & (inodeSize - 1)) === 0 &&
    blocksPerGroup > 0 &&
    inodesPerGroup > 0 &&
    blocksCount > 0 &&
    descSize >= 32 &&
    descSize <= 1024 &&
    // Each group's block and inode bitmaps are one block, which bounds both per-group counts.
    blocksPerGroup <= 8 * blockSize &&
    inodesPerGroup <= 8 * blockSize;
  if (!sane) return undefined;
  const groups = Math.ceil((blocksCount - v.getUint32(20, true)) / blocksPerGroup);
  // 2^18 groups is a 32 TiB filesystem of 4 KiB blocks; more is a damaged or hostile superblock, and we would
  // read its whole descriptor table.
  if (!(groups > 0 && groups <= 2 ** 18)) return undefined;
  return {
    blockSize,
    blocksCount,
    inodesCount: v.getUint32(0, true),
    blocksPerGroup,
    inodesPerGroup,
    inodeSize,
    firstDataBlock: v.getUint32(20, true),
    firstIno,
    groups,
    descSize,
    is64bit,
    metaBg: (incompat & INCOMPAT_META_BG) !== 0,
  };
}

/** The first block of group `index`'s inode table, from its descriptor. */
export function inodeTableBlock(g: Ext4Geometry, desc: Uint8Array): number {
  const v = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  const lo = v.getUint32(8, true);
  const hi = g.is64bit && g.descSize >= 64 && desc.byteLength >= 0x2c ? v.getUint32(0x28, true) : 0;
  return lo + hi * 2 ** 32;
}

/** Byte offset of group `index`'s descriptor (the table follows the superblock's block; no meta_bg). */
export const groupDescriptorOffset = (g: Ext4Geometry, index: number): number =>
  (g.firstDataBlock + 1) * g.blockSize + index * g.descSize;

export const inodeTableBlocks = (g: Ext4Geometry): number =>
  Math.ceil((g.inodesPerGroup * g.inodeSize) / g.blockSize);
