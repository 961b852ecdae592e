import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changedFiles } from './changed-files.ts';
import { namesOf, parseDirBlock } from './directory.ts';
import { compareInodeRecords, dataBlocks, decodeInode } from './inode.ts';
import { decodeSuperblock } from './superblock.ts';

function dirent(inode: number, name: string, recLen: number): Uint8Array {
  const b = new Uint8Array(recLen);
  const v = new DataView(b.buffer);
  v.setUint32(0, inode, true);
  v.setUint16(4, recLen, true);
  v.setUint8(6, name.length);
  v.setUint8(7, 1);
  b.set(new TextEncoder().encode(name), 8);
  return b;
}

describe('ext4 reading', () => {
  it('parses directory entries and skips ".", "..", deleted and checksum-tail entries', () => {
    const block = new Uint8Array(64);
    block.set(dirent(2, '.', 12), 0);
    block.set(dirent(2, '..', 12), 12);
    block.set(dirent(12, 'hello', 16), 24);
    block.set(dirent(0, 'gone', 12), 40);
    block.set(dirent(13, 'x', 12), 52);
    expect(parseDirBlock(block)).toEqual([
      { inode: 12, name: 'hello' },
      { inode: 13, name: 'x' },
    ]);
  });

  it('stops at a zero or overlong rec_len instead of looping', () => {
    const block = new Uint8Array(4096);
    block.set(dirent(12, 'a', 12), 0);
    // Next entry claims rec_len 0: must end the block.
    expect(parseDirBlock(block)).toEqual([{ inode: 12, name: 'a' }]);
    const over = dirent(12, 'b', 12);
    new DataView(over.buffer).setUint16(4, 9000, true);
    expect(parseDirBlock(over)).toEqual([]);
  });

  it('ignores an access-time-only change but not a size change', () => {
    const a = new Uint8Array(256);
    const b = a.slice();
    b[0x08] = 1;
    b[0x8c] = 2;
    b[0x7c] = 3;
    expect(compareInodeRecords(a, b)).toBe('accessed');
    b[0x04] = 1;
    expect(compareInodeRecords(a, b)).toBe('changed');
    expect(compareInodeRecords(a, a.slice())).toBe('same');
  });

  it('follows a looping extent tree only to its depth limit', () => {
    const node = new Uint8Array(4096);
    const v = new DataView(node.buffer);
    v.setUint16(0, 0xf30a, true);
    v.setUint16(2, 1, true);
    v.setUint16(6, 1, true); // an index node…
    v.setUint32(16, 5, true); // …pointing at block 5, which is itself
    const inode = new Uint8Array(256);
    new DataView(inode.buffer).setUint32(0x20, 0x80000, true);
    inode.set(node.subarray(0, 60), 0x28);
    let reads = 0;
    const blocks = dataBlocks(decodeInode(inode), 4096, () => {
      reads++;
      return node;
    });
    expect(blocks).toEqual([]);
    expect(reads).toBeLessThanOrEqual(6);
  });

  it('does not take random bytes for a superblock, and never crashes or hangs on a random disk', () => {
    expect(decodeSuperblock(new Uint8Array(1024))).toBeUndefined();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4096, maxLength: 16384 }),
        fc.array(fc.nat(20), { maxLength: 8 }),
        (disk, blocks) => {
          // Make it pass the magic check half the time, so the deeper code runs on garbage.
          if (disk[0] && disk[0] > 127) {
            disk[1024 + 56] = 0x53;
            disk[1024 + 57] = 0xef;
            disk[1024 + 24] = 0;
          }
          const read = (offset: number, length: number): Uint8Array => {
            const out = new Uint8Array(Math.min(length, 1 << 20));
            if (offset < disk.length)
              out.set(disk.subarray(offset, Math.min(disk.length, offset + out.length)));
            return out;
          };
          const sorted = [...new Set(blocks)].sort((x, y) => x - y);
          const r = changedFiles(read, read, sorted);
          if (r) expect(r.files).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names inodes by walking from the root, and survives a directory that contains itself', () => {
    const bs = 1024;
    const dirBlock = new Uint8Array(bs);
    dirBlock.set(dirent(2, '.', 12), 0);
    dirBlock.set(dirent(2, 'loop', 12), 12);
    dirBlock.set(dirent(12, 'file', bs - 24), 24);
    const rootInode = new Uint8Array(256);
    const rv = new DataView(rootInode.buffer);
    rv.setUint16(0, 0o040755, true);
    rv.setUint32(4, bs, true);
    rv.setUint32(0x28, 7, true); // block map: i_block[0] = 7
    const names = namesOf(
      {
        blockSize: bs,
        readInode: (n) => (n === 2 ? rootInode : new Uint8Array(256)),
        readBlock: (b) => (b === 7 ? dirBlock : undefined),
      },
      new Set([12, 99]),
    );
    expect([...names]).toEqual([[12, '/file']]);
  });
});
