// Decodes an ext inode record and maps its logical blocks to disk blocks (extent tree or classic block map),
// with limits so a damaged or hostile image can never make the walk loop or run away.

export interface Ext4Inode {
  readonly mode: number;
  readonly links: number;
  readonly sizeBytes: number;
  readonly flags: number;
  readonly dtime: number;
  /** The 60 bytes of i_block: extent root, block map, or inline data. */
  readonly iBlock: Uint8Array;
  /** i_generation: set anew each time the inode number is handed out. */
  readonly generation: number;
  /** i_crtime seconds when the record has room for it, else 0. */
  readonly crtime: number;
}

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
const EXTENTS_FL = 0x80000;
export const INLINE_DATA_FL = 0x10000000;
const EXTENT_MAGIC = 0xf30a;
const MAX_DEPTH = 5;

export function decodeInode(bytes: Uint8Array): Ext4Inode {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    mode: v.getUint16(0, true),
    sizeBytes: v.getUint32(4, true) + v.getUint32(0x6c, true) * 2 ** 32,
    dtime: v.getUint32(0x14, true),
    links: v.getUint16(0x1a, true),
    flags: v.getUint32(0x20, true),
    iBlock: bytes.subarray(0x28, 0x28 + 60),
    generation: v.getUint32(0x64, true),
    // i_extra_isize says how much of the record past 128 bytes is in use; crtime lives at 0x90.
    crtime: bytes.length >= 0x98 && 128 + v.getUint16(0x80, true) >= 0x98 ? v.getUint32(0x90, true) : 0,
  };
}

/** The same inode number now belongs to another file: it was freed and handed out again. */
export const isReused = (before: Ext4Inode, after: Ext4Inode): boolean =>
  before.generation !== after.generation ||
  before.crtime !== after.crtime ||
  (before.mode & S_IFMT) !== (after.mode & S_IFMT);

export const isLive = (i: Ext4Inode): boolean => i.links > 0 && i.mode !== 0 && i.dtime === 0;

export function fileType(mode: number): 'dir' | 'file' | 'symlink' | 'other' {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'dir';
    case S_IFREG:
      return 'file';
    case S_IFLNK:
      return 'symlink';
    default:
      return 'other';
  }
}

/** Byte ranges of an inode record that change on every access or with any change: ignored when diffing. */
const VOLATILE: readonly [number, number][] = [
  [0x08, 0x0c], // i_atime
  [0x7c, 0x7e], // l_i_checksum_lo
  [0x82, 0x84], // i_checksum_hi
  [0x8c, 0x90], // i_atime_extra
];

/** 'same', 'accessed' (only the access time moved) or 'changed'. */
export function compareInodeRecords(a: Uint8Array, b: Uint8Array): 'same' | 'accessed' | 'changed' {
  let differs = false;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    differs = true;
    if (!VOLATILE.some(([s, e]) => i >= s && i < e)) return 'changed';
  }
  return differs ? 'accessed' : 'same';
}

export type ReadBlock = (block: number) => Uint8Array | undefined;

/**
 * Disk blocks holding the inode's data, in logical order, at most `maxBlocks` of them (a directory walk
 * needs no more). Unknown or damaged trees yield what was readable up to the damage.
 */
export function dataBlocks(
  inode: Ext4Inode,
  blockSize: number,
  readBlock: ReadBlock,
  maxBlocks = 1 << 16,
): number[] {
  const out: number[] = [];
  if ((inode.flags & INLINE_DATA_FL) !== 0) return out;
  if ((inode.flags & EXTENTS_FL) !== 0) {
    walkExtents(inode.iBlock, 0, readBlock, out, maxBlocks);
    return out;
  }
  const v = new DataView(inode.iBlock.buffer, inode.iBlock.byteOffset, 60);
  const perBlock = blockSize / 4;
  const indirect = (block: number, level: number): void => {
    if (block === 0 || out.length >= maxBlocks) return;
    const data = readBlock(block);
    if (!data) return;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < perBlock && out.length < maxBlocks; i++) {
      const b = dv.getUint32(i * 4, true);
      if (b === 0) continue;
      if (level === 0) out.push(b);
      else indirect(b, level - 1);
    }
  };
  for (let i = 0; i < 12 && out.length < maxBlocks; i++) {
    const b = v.getUint32(i * 4, true);
    if (b !== 0) out.push(b);
  }
  indirect(v.getUint32(48, true), 0);
  indirect(v.getUint32(52, true), 1);
  indirect(v.getUint32(56, true), 2);
  return out;
}

function walkExtents(
  node: Uint8Array,
  depth: number,
  readBlock: ReadBlock,
  out: number[],
  maxBlocks: number,
): void {
  if (depth > MAX_DEPTH || node.length < 12) return;
  const v = new DataView(node.buffer, node.byteOffset, node.byteLength);
  if (v.getUint16(0, true) !== EXTENT_MAGIC) return;
  const entries = Math.min(v.getUint16(2, true), Math.floor((node.length - 12) / 12));
  const nodeDepth = v.getUint16(6, true);
  for (let e = 0; e < entries && out.length < maxBlocks; e++) {
    const at = 12 + e * 12;
    if (nodeDepth === 0) {
      let len = v.getUint16(at + 4, true);
      if (len > 32768) len -= 32768; // an uninitialised extent: allocated, reads as zeros
      const start = v.getUint16(at + 6, true) * 2 ** 32 + v.getUint32(at + 8, true);
      for (let i = 0; i < len && out.length < maxBlocks; i++) out.push(start + i);
    } else {
      const child = v.getUint32(at + 4, true) + v.getUint16(at + 8, true) * 2 ** 32;
      const data = readBlock(child);
      if (data) walkExtents(data, depth + 1, readBlock, out, maxBlocks);
    }
  }
}
