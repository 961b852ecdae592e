// Merge with the file-copy addon, with its pure-JS fallback and (on tmpfs) with the mapped merge: each gives
// uml_moo's bytes for every pattern (long runs, single sectors, dense windows, a partial last sector), keeps
// a sparse base's holes, and resumes.
import {
  closeSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOverlay } from '../../src/host/cow/create.ts';
import { mappedMerge, resetMappedMerge } from '../../src/host/cow/mapped-merge.ts';
import { mergeOverlay } from '../../src/host/cow/merge.ts';
import { nativeFileIo, resetFileIo } from '../../src/host/file-io.ts';
import { makeBase, rng, sh, sha256, tempDir, UML_MOO, writeSectors } from '../helpers/cow-files.ts';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => {
  t.cleanup();
  delete process.env.UMLKIT_NO_NATIVE_FILEIO;
  delete process.env.UMLKIT_NO_MAPPED_MERGE;
  resetFileIo();
  resetMappedMerge();
});

/** Engines and where their files are: the mapped merge runs only on a memory filesystem. */
const ENGINES = {
  addon: { engine: 'addon', on: undefined },
  JavaScript: { engine: 'javascript', on: undefined },
  'mapped (tmpfs)': { engine: 'mapped', on: '/dev/shm' },
} as const;

const PATTERNS: Record<string, (sectors: number) => number[]> = {
  'long runs': (n) => Array.from({ length: n }, (_, s) => s).filter((s) => Math.floor(s / 300) % 4 === 1),
  'random 4 KiB blocks': (n) => {
    const r = rng(21);
    return Array.from({ length: n }, (_, s) => s).filter((s) => Math.floor(s / 8) % 2 === 0 && r() < 0.2);
  },
  'random single sectors': (n) => {
    const r = rng(22);
    return Array.from({ length: n }, (_, s) => s).filter(() => r() < 0.1);
  },
  'every other sector': (n) => Array.from({ length: n }, (_, s) => s).filter((s) => s % 2 === 0),
};

describe.each(Object.keys(ENGINES) as (keyof typeof ENGINES)[])('cow merge with the %s engine', (name) => {
  const { engine, on } = ENGINES[name];
  beforeEach(() => {
    if (engine === 'javascript') process.env.UMLKIT_NO_NATIVE_FILEIO = '1';
    resetFileIo();
    resetMappedMerge();
    expect(nativeFileIo() !== null).toBe(engine !== 'javascript');
    if (engine === 'mapped') expect(mappedMerge()).not.toBeNull();
    if (on) {
      t.cleanup();
      t = tempDir('umlkit-cow-', on);
    }
  });

  it.each(Object.keys(PATTERNS))(
    '%s: the bytes uml_moo -d gives, partial last sector included',
    async (name) => {
      const size = (6 << 20) + 700; // not a multiple of 512: the last sector is partial
      const base = join(t.dir, 'base.img');
      const overlay = join(t.dir, 'o.cow');
      makeBase(base, size);
      createOverlay(overlay, base);
      const sectors = Math.ceil(size / 512);
      const dirty = new Set((PATTERNS[name] as (n: number) => number[])(sectors));
      dirty.add(sectors - 1);
      writeSectors(overlay, dirty);
      // uml_moo skips a partial last sector; ours writes it (docs/cow.md), so compare the rest with uml_moo
      // and the last bytes with the overlay's.
      const reference = join(t.dir, 'reference.img');
      sh('cp', ['--preserve=timestamps', base, reference]);
      sh(UML_MOO, ['-d', '-b', reference, overlay]);
      const r = await mergeOverlay(overlay);
      expect(r.engine).toBe(engine);
      expect(r.sectors).toBe(dirty.size);
      expect(statSync(base).size).toBe(size);
      const full = join(t.dir, 'cut.img');
      const ref = join(t.dir, 'cutref.img');
      sh('cp', [base, full]);
      sh('cp', [reference, ref]);
      truncateSync(full, (sectors - 1) * 512);
      truncateSync(ref, (sectors - 1) * 512);
      expect(sha256(full)).toBe(sha256(ref));
      // The partial last sector: writeSectors' fill byte with the sector number at offset 4, cut to 188 bytes.
      const last = sectors - 1;
      const want = Buffer.alloc(512, 0xc0 + (last % 61));
      want.writeUInt32LE(last, 4);
      expect(
        readFileSync(base)
          .subarray(last * 512)
          .equals(want.subarray(0, size - last * 512)),
      ).toBe(true);
    },
  );

  it('writes nothing into the holes of a sparse base', async () => {
    const base = join(t.dir, 'sparse.img');
    writeFileSync(base, '');
    truncateSync(base, 32 << 20);
    utimesSync(base, 1_700_000_000, 1_700_000_000);
    const overlay = join(t.dir, 's.cow');
    createOverlay(overlay, base);
    writeSectors(
      overlay,
      Array.from({ length: 683 }, (_, i) => i * 3),
    );
    expect((await mergeOverlay(overlay)).engine).toBe(engine);
    expect(statSync(base).blocks * 512).toBeLessThanOrEqual(1 << 20);
  });

  it('an interrupted merge finishes when run again, to the same bytes', async () => {
    // The mapped merge's windows are 64 MiB: its base needs more than one, and is interrupted after the first.
    const size = engine === 'mapped' ? 72 << 20 : 8 << 20;
    const stopAt = engine === 'mapped' ? 1 : 4;
    const base = join(t.dir, 'base.img');
    const overlay = join(t.dir, 'o.cow');
    makeBase(base, size);
    createOverlay(overlay, base);
    writeSectors(overlay, PATTERNS['random single sectors']?.(size / 512) ?? []);
    const reference = join(t.dir, 'reference.img');
    sh('cp', ['--preserve=timestamps', base, reference]);
    sh(UML_MOO, ['-d', '-b', reference, overlay]);
    const untouched = sha256(base);
    await expect(
      mergeOverlay(overlay, {
        beforeWindow: (i) => {
          if (i === stopAt) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    // Half merged: neither the old bytes nor the new.
    const half = sha256(base);
    expect(half).not.toBe(untouched);
    expect(half).not.toBe(sha256(reference));
    const r = await mergeOverlay(overlay);
    expect(r.engine).toBe(engine);
    expect(r.resumed).toBe(true);
    expect(sha256(base)).toBe(sha256(reference));
  });
});

describe("the addon's window merge (mergeBitmapWindow)", () => {
  const found = nativeFileIo();
  if (!found) throw new Error('dist/native/fileio.node is missing: run `npm run build`');
  const native = found;
  const SIZE = 2 << 20; // two 1 MiB windows
  const GAP = 3 * 4096;

  /** Base (every byte from `baseByte`, or sparse when null), overlay data file, bitmap of `sectors`. */
  function files(dir: string, sectors: number[], baseByte: ((i: number) => number) | null) {
    const base = join(dir, 'base');
    const over = join(dir, 'over');
    if (baseByte) writeFileSync(base, Buffer.from(Array.from({ length: SIZE }, (_, i) => baseByte(i))));
    else {
      writeFileSync(base, '');
      truncateSync(base, SIZE);
    }
    const data = Buffer.alloc(SIZE, 0x5a);
    for (let s = 0; s < SIZE / 512; s++) data.writeUInt32LE(s, s * 512);
    writeFileSync(over, data);
    const bitmap = new Uint8Array(SIZE / 512 / 8);
    for (const s of sectors) bitmap[s >> 3] = (bitmap[s >> 3] as number) | (1 << (s & 7));
    const want = baseByte ? readFileSync(base) : Buffer.alloc(SIZE);
    for (const s of sectors) data.copy(want, s * 512, s * 512, s * 512 + 512);
    return { base, over, bitmap, want };
  }

  function merge(f: ReturnType<typeof files>, gap: number): [number, number] {
    const fdIn = openSync(f.over, 'r');
    const fdOut = openSync(f.base, 'r+');
    try {
      let bytes = 0;
      let writes = 0;
      for (let w = 0; w < SIZE / 512; w += 2048) {
        const [b, n] = native.mergeBitmapWindow(fdIn, fdOut, f.bitmap, w, w + 2048, 0, 512, SIZE, gap);
        bytes += b;
        writes += n;
      }
      return [bytes, writes];
    } finally {
      closeSync(fdIn);
      closeSync(fdOut);
    }
  }

  it.each([0, GAP])('gap %i: exactly the set sectors land, clean sectors keep their bytes', (gap) => {
    const r = rng(31);
    const sectors = Array.from({ length: SIZE / 512 }, (_, s) => s).filter(() => r() < 0.1);
    const f = files(t.dir, sectors, (i) => (i * 7 + (i >> 9)) & 0xff);
    const [bytes, writes] = merge(f, gap);
    expect(bytes).toBe(sectors.length * 512);
    expect(readFileSync(f.base).equals(f.want)).toBe(true);
    // Clusters: far fewer writes than runs.
    if (gap === 0) expect(writes).toBeGreaterThan(300);
    else expect(writes).toBeLessThan(40);
  });

  it('leaves clean all-zero pages between written pages unwritten (holes of a sparse base stay holes)', () => {
    // One sector in every other page of the first window: one cluster, whose 128 gap pages are holes.
    const sectors = Array.from({ length: 128 }, (_, i) => i * 16 + 3);
    const f = files(t.dir, sectors, null);
    const [, writes] = merge(f, GAP);
    expect(readFileSync(f.base).equals(f.want)).toBe(true);
    expect(writes).toBe(128); // each written page alone: the zero pages split the cluster
    expect(statSync(f.base).blocks * 512).toBeLessThanOrEqual(128 * 4096 + 8192);
  });

  it('reports a base that ends inside a cluster', () => {
    const f = files(t.dir, [0, 16], (i) => i & 0xff);
    truncateSync(f.base, 4096);
    expect(() => merge(f, GAP)).toThrow(expect.objectContaining({ code: 'EOF', file: 'base' }));
  });

  it('a writeback thread starts and stops', () => {
    const f = files(t.dir, [1], (i) => i & 0xff);
    const fd = openSync(f.base, 'r+');
    try {
      const thread = native.writebackThread(fd);
      native.writebackQueue(thread, 0, SIZE);
      native.writebackStop(thread);
      native.writebackStop(thread); // twice is harmless
    } finally {
      closeSync(fd);
    }
  });
});

describe("the mapped merge's addon (mergeMapped, tmpfs)", () => {
  const found = mappedMerge();
  if (!found) throw new Error('dist/native/mapmerge.node is missing: run `npm run build`');
  const mapped = found;
  const SIZE = (4 << 20) + 1536 + 200; // not a whole number of pages, nor of sectors
  const SECTORS = Math.ceil(SIZE / 512);
  const IN_OFFSET = 8192 + 512; // the overlay's data area need not start a page

  beforeEach(() => {
    t.cleanup();
    t = tempDir('umlkit-cow-', '/dev/shm');
  });

  /** A base of `baseByte` (sparse when null), an overlay whose sector s holds s, the bitmap of `sectors`. */
  function files(sectors: number[], baseByte: ((i: number) => number) | null) {
    const base = join(t.dir, 'base');
    const over = join(t.dir, 'over');
    if (baseByte) writeFileSync(base, Buffer.from(Array.from({ length: SIZE }, (_, i) => baseByte(i))));
    else {
      writeFileSync(base, '');
      truncateSync(base, SIZE);
    }
    const data = Buffer.alloc(IN_OFFSET + SECTORS * 512);
    for (const s of sectors) data.fill(0x40 + (s % 97), IN_OFFSET + s * 512, IN_OFFSET + s * 512 + 512);
    writeFileSync(over, data);
    const bitmap = new Uint8Array(Math.ceil(SECTORS / 8));
    for (const s of sectors) bitmap[s >> 3] = (bitmap[s >> 3] as number) | (1 << (s & 7));
    const want = baseByte ? readFileSync(base) : Buffer.alloc(SIZE);
    for (const s of sectors) data.copy(want, s * 512, IN_OFFSET + s * 512, IN_OFFSET + s * 512 + 512);
    return { base, over, bitmap, want };
  }

  function merge(f: ReturnType<typeof files>, threads: number, to = SECTORS): [number, number] {
    const fdIn = openSync(f.over, 'r');
    const fdOut = openSync(f.base, 'r+');
    try {
      return mapped.mergeMapped(fdIn, fdOut, f.bitmap, 0, to, IN_OFFSET, 512, SIZE, threads);
    } finally {
      closeSync(fdIn);
      closeSync(fdOut);
    }
  }

  it.each([1, 2, 3, 8])(
    'with %i threads: exactly the set sectors land, clean ones keep their bytes',
    (threads) => {
      const r = rng(41);
      const sectors = Array.from({ length: SECTORS - 1 }, (_, s) => s).filter(() => r() < 0.1);
      const f = files(sectors, (i) => (i * 13 + (i >> 9)) & 0xff);
      const [bytes, runs] = merge(f, threads);
      expect(bytes).toBe(sectors.length * 512);
      expect(runs).toBeGreaterThan(sectors.length / 2);
      expect(readFileSync(f.base).equals(f.want)).toBe(true);
    },
  );

  it("clips to the base's size: the partial last sector gets only its bytes", () => {
    const last = SECTORS - 1; // 200 bytes of it are in the base
    const sectors = [0, last - 1, last];
    const f = files(sectors, (i) => i & 0xff);
    const [bytes] = merge(f, 2);
    expect(bytes).toBe(2 * 512 + (SIZE - last * 512));
    expect(statSync(f.base).size).toBe(SIZE);
    expect(readFileSync(f.base).equals(f.want)).toBe(true);
  });

  it('bridges clean pages that are there, never holes: a sparse base keeps them', () => {
    // A written sector in every other page: the clean pages between are holes, and must stay holes.
    const sectors = Array.from({ length: 256 }, (_, i) => i * 16 + 5);
    const f = files(sectors, null);
    merge(f, 2);
    expect(readFileSync(f.base).equals(f.want)).toBe(true);
    expect(statSync(f.base).blocks * 512).toBeLessThanOrEqual(256 * 4096 + 8192);
  });

  it('reports an overlay or a base shorter than the range, before writing anything', () => {
    const f = files([0, 8000], (i) => i & 0xff);
    truncateSync(f.over, IN_OFFSET + 4096);
    expect(() => merge(f, 2)).toThrow(expect.objectContaining({ code: 'EOF', file: 'overlay' }));
    expect(readFileSync(f.base).subarray(0, 512).equals(f.want.subarray(0, 512))).toBe(false);
    const g = files([0, 8000], (i) => i & 0xff);
    truncateSync(g.base, 8192);
    expect(() => merge(g, 2)).toThrow(expect.objectContaining({ code: 'EOF', file: 'base' }));
  });

  it('refuses a range that does not start a page, or a bad thread count', () => {
    const f = files([9], (i) => i & 0xff);
    const fd = openSync(f.base, 'r+');
    try {
      expect(() => mapped.mergeMapped(fd, fd, f.bitmap, 4, 64, 0, 512, SIZE, 1)).toThrow(/unaligned/);
      expect(() => mapped.mergeMapped(fd, fd, f.bitmap, 0, 64, 0, 512, SIZE, 0)).toThrow(/thread/);
      expect(() => mapped.mergeMapped(fd, fd, f.bitmap, 0, 64, 0, 512, SIZE, 99)).toThrow(/thread/);
    } finally {
      closeSync(fd);
    }
  });

  it('turns a fault on a mapping past the end of its file into an error, and the process lives on', () => {
    const path = join(t.dir, 'short');
    writeFileSync(path, Buffer.alloc(100, 7));
    const fd = openSync(path, 'r');
    try {
      expect(mapped.guardedReadByte(fd, 50)).toBe(7);
      // Past the last page of the file: a plain read here would kill the process with SIGBUS.
      expect(() => mapped.guardedReadByte(fd, 8192)).toThrow(expect.objectContaining({ code: 'EFAULT' }));
      expect(mapped.guardedReadByte(fd, 99)).toBe(7); // and the guard still works after a fault
      expect(() => mapped.guardedReadByte(fd, 4096 * 3)).toThrow(expect.objectContaining({ code: 'EFAULT' }));
    } finally {
      closeSync(fd);
    }
  });
});
