// Which files of an ext2/3/4 filesystem an overlay changed: compares the inode records in the inode-table
// blocks the overlay wrote (base vs base+overlay), then names the changed inodes by walking the directories.
// ext4 updates an inode's mtime/ctime on every write, so a changed file always shows in its inode record.
import { namesOf, type TreeReader } from './directory.ts';
import { compareInodeRecords, decodeInode, fileType, isLive, isReused } from './inode.ts';
import {
  decodeSuperblock,
  type Ext4Geometry,
  groupDescriptorOffset,
  inodeTableBlock,
  inodeTableBlocks,
} from './superblock.ts';

/** Reads bytes of one disk view; bytes past its end read as zeros. */
export type ReadAt = (offset: number, length: number) => Uint8Array;

export interface ChangedFile {
  readonly path: string;
  readonly inode: number;
  readonly change: 'added' | 'removed' | 'modified';
  readonly type: 'dir' | 'file' | 'symlink' | 'other';
}

export interface FilesystemDiff {
  readonly kind: 'ext';
  readonly blockSize: number;
  readonly files: ChangedFile[];
  /** Inodes whose only change is the access time (reads with atime updates): not listed as changes. */
  readonly accessedOnly: number;
  /** Changed inodes that no directory names (e.g. open-but-deleted files, or names lost with a directory). */
  readonly unnamed: number;
}

function treeReader(g: Ext4Geometry, read: ReadAt): TreeReader & { tables: number[] } {
  const gdt = read(groupDescriptorOffset(g, 0), g.groups * g.descSize);
  const tables = Array.from({ length: g.groups }, (_, i) =>
    inodeTableBlock(g, gdt.subarray(i * g.descSize, (i + 1) * g.descSize)),
  );
  return {
    blockSize: g.blockSize,
    tables,
    readInode(ino) {
      if (ino < 1 || ino > g.inodesCount) return undefined;
      const group = Math.floor((ino - 1) / g.inodesPerGroup);
      const table = tables[group];
      if (table === undefined || table === 0 || table >= g.blocksCount) return undefined;
      return read(table * g.blockSize + ((ino - 1) % g.inodesPerGroup) * g.inodeSize, g.inodeSize);
    },
    readBlock(block) {
      return block > 0 && block < g.blocksCount ? read(block * g.blockSize, g.blockSize) : undefined;
    },
  };
}

/**
 * @param changedBlocks filesystem blocks the overlay wrote, ascending.
 * @returns undefined when the disk holds no ext filesystem umlkit can read (then only blocks are reported).
 */
export function changedFiles(
  base: ReadAt,
  merged: ReadAt,
  changedBlocks: readonly number[],
): FilesystemDiff | undefined {
  const g = decodeSuperblock(merged(1024, 1024));
  const gBase = decodeSuperblock(base(1024, 1024));
  // meta_bg moves the descriptors; a resize changes the geometry: both are beyond this reader.
  if (
    !g ||
    !gBase ||
    g.metaBg ||
    g.blockSize !== gBase.blockSize ||
    g.inodesPerGroup !== gBase.inodesPerGroup
  )
    return undefined;
  const mergedTree = treeReader(g, merged);
  const baseTree = treeReader(gBase, base);
  const perTable = inodeTableBlocks(g);
  const perBlock = g.blockSize / g.inodeSize;
  const tables = mergedTree.tables
    .map((start, group) => ({ start, group }))
    .filter((t) => t.start > 0)
    .sort((a, b) => a.start - b.start);
  // Keyed by inode and view: a reused inode is a removed file (named in the base) and an added one.
  const changes: { ino: number; change: ChangedFile['change']; type: ChangedFile['type'] }[] = [];
  let accessedOnly = 0;
  let t = 0;
  for (const block of changedBlocks) {
    while (t < tables.length && (tables[t] as { start: number }).start + perTable <= block) t++;
    const table = tables[t];
    if (!table || block < table.start) continue;
    const first = table.group * g.inodesPerGroup + (block - table.start) * perBlock + 1;
    for (let ino = first; ino < first + perBlock; ino++) {
      if (ino < g.firstIno && ino !== 2) continue; // journal, resize, … are not files
      const now = mergedTree.readInode(ino);
      const before = baseTree.readInode(ino);
      if (!now || !before) continue;
      const how = compareInodeRecords(before, now);
      if (how === 'same') continue;
      if (how === 'accessed') {
        accessedOnly++;
        continue;
      }
      const a = decodeInode(before);
      const b = decodeInode(now);
      const wasLive = isLive(a);
      const nowLive = isLive(b);
      if (wasLive && nowLive && isReused(a, b)) {
        changes.push(
          { ino, change: 'removed', type: fileType(a.mode) },
          { ino, change: 'added', type: fileType(b.mode) },
        );
      } else if (wasLive || nowLive) {
        const change = wasLive ? (nowLive ? 'modified' : 'removed') : 'added';
        changes.push({ ino, change, type: fileType(change === 'removed' ? a.mode : b.mode) });
      }
      // Dead before and after: a freed inode's record was rewritten; nothing to report.
    }
  }
  const mergedNames = namesOf(
    mergedTree,
    new Set(changes.filter((c) => c.change !== 'removed').map((c) => c.ino)),
  );
  const baseNames = namesOf(
    baseTree,
    new Set(
      changes
        .filter((c) => c.change === 'removed' || (c.change === 'modified' && !mergedNames.has(c.ino)))
        .map((c) => c.ino),
    ),
  );
  const files: ChangedFile[] = [];
  let unnamed = 0;
  for (const c of changes) {
    const path =
      c.change === 'removed' ? baseNames.get(c.ino) : (mergedNames.get(c.ino) ?? baseNames.get(c.ino));
    if (path === undefined) {
      unnamed++;
      continue;
    }
    files.push({ path, inode: c.ino, change: c.change, type: c.type });
  }
  files.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return { kind: 'ext', blockSize: g.blockSize, files, accessedOnly, unnamed };
}
