// Parses ext directory entries from a directory block, and walks the tree to name the inodes a diff found.
import { dataBlocks, decodeInode, type Ext4Inode, INLINE_DATA_FL, S_IFDIR, S_IFMT } from './inode.ts';

export interface DirEntry {
  readonly inode: number;
  readonly name: string;
}

const decoder = new TextDecoder('utf-8');

/** Live entries of one directory block; a bad rec_len ends the block rather than looping on it. */
export function parseDirBlock(block: Uint8Array): DirEntry[] {
  const out: DirEntry[] = [];
  const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let at = 0;
  while (at + 8 <= block.length) {
    const inode = v.getUint32(at, true);
    const recLen = v.getUint16(at + 4, true);
    const nameLen = v.getUint8(at + 6);
    if (recLen < 8 || at + recLen > block.length || 8 + nameLen > recLen) break;
    if (inode !== 0 && nameLen > 0) {
      const name = decoder.decode(block.subarray(at + 8, at + 8 + nameLen));
      if (name !== '.' && name !== '..') out.push({ inode, name });
    }
    at += recLen;
  }
  return out;
}

export interface TreeReader {
  readonly blockSize: number;
  readInode(ino: number): Uint8Array | undefined;
  readBlock(block: number): Uint8Array | undefined;
}

/**
 * Paths (from `/`) of the inodes in `wanted`, found by walking the tree from the root inode (2). Stops when
 * all are named, after `maxDirs` directories, or at a directory seen before (loops in a damaged image).
 */
export function namesOf(
  reader: TreeReader,
  wanted: ReadonlySet<number>,
  maxDirs = 100_000,
  maxBlockReads = 1 << 18,
): Map<number, string> {
  const names = new Map<number, string>();
  if (wanted.has(2)) names.set(2, '/');
  const seen = new Set<number>([2]);
  const queue: [number, string][] = [[2, '']];
  let dirs = 0;
  // A budget of block reads bounds the walk on a damaged or hostile image; past it, names stay unknown.
  const budget = { left: maxBlockReads };
  const counted: TreeReader = {
    blockSize: reader.blockSize,
    readInode: (n) => reader.readInode(n),
    readBlock: (b) => (budget.left-- > 0 ? reader.readBlock(b) : undefined),
  };
  while (queue.length > 0 && names.size < wanted.size && dirs++ < maxDirs && budget.left > 0) {
    const [ino, path] = queue.shift() as [number, string];
    const raw = reader.readInode(ino);
    if (!raw) continue;
    const inode = decodeInode(raw);
    if ((inode.mode & S_IFMT) !== S_IFDIR) continue;
    for (const entry of dirEntries(inode, counted)) {
      const child = `${path}/${entry.name}`;
      if (wanted.has(entry.inode) && !names.has(entry.inode)) names.set(entry.inode, child);
      if (!seen.has(entry.inode)) {
        seen.add(entry.inode);
        queue.push([entry.inode, child]);
      }
    }
  }
  return names;
}

function dirEntries(inode: Ext4Inode, reader: TreeReader): DirEntry[] {
  if ((inode.flags & INLINE_DATA_FL) !== 0) {
    // Inline directory: the parent's inode number, then entries, all inside i_block.
    return parseDirBlock(inode.iBlock.subarray(4));
  }
  const out: DirEntry[] = [];
  const maxBlocks = Math.min(Math.ceil(inode.sizeBytes / reader.blockSize), 1 << 16);
  for (const b of dataBlocks(inode, reader.blockSize, (n) => reader.readBlock(n), maxBlocks)) {
    const block = reader.readBlock(b);
    if (block) out.push(...parseDirBlock(block));
  }
  return out;
}
