// The file-copy addon (native/fileio): copy_file_range with offsets, batches of runs, bitmap-driven runs,
// the pread/pwrite fallback across filesystems, and its errors; and the pure-JS fallback of copyRuns.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyRuns, nativeFileIo, resetFileIo } from '../../src/host/file-io.ts';
import { rng } from '../helpers/cow-files.ts';

const dirs: string[] = [];
const scratch = (root = tmpdir()): string => {
  const d = mkdtempSync(join(root, 'umlkit-fileio-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const native = nativeFileIo();
if (!native) throw new Error('dist/native/fileio.node is missing: run `npm run build`');

function randomBytes(n: number, seed: number): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** Input and output files, open, with their paths; the output starts as `outBytes`. */
function pair(dir: string, inBytes: Buffer, outBytes: Buffer, outDir = dir) {
  const inPath = join(dir, 'in');
  const outPath = join(outDir, 'out');
  writeFileSync(inPath, inBytes);
  writeFileSync(outPath, outBytes);
  const fdIn = openSync(inPath, 'r');
  const fdOut = openSync(outPath, 'r+');
  return {
    fdIn,
    fdOut,
    result: () => readFileSync(outPath),
    close: () => {
      closeSync(fdIn);
      closeSync(fdOut);
    },
  };
}

/** Random non-overlapping runs (in, out, len) inside files of `size` bytes, as triples. */
function randomRuns(size: number, seed: number): Float64Array {
  const r = rng(seed);
  const out: number[] = [];
  for (let at = 0; at < size; ) {
    const gap = Math.floor(r() * 5000);
    const len = 1 + Math.floor(r() * 9000);
    if (at + gap + len > size) break;
    out.push(Math.floor(r() * (size - len)), at + gap, len);
    at += gap + len;
  }
  return Float64Array.from(out);
}

function expected(inBytes: Buffer, outBytes: Buffer, runs: Float64Array): Buffer {
  const b = Buffer.from(outBytes);
  for (let i = 0; i < runs.length; i += 3) {
    inBytes.copy(b, runs[i + 1] as number, runs[i] as number, (runs[i] as number) + (runs[i + 2] as number));
  }
  return b;
}

describe('file-io addon', () => {
  it('copyFileRange copies a range at explicit offsets and stops at the end of the input', () => {
    const src = randomBytes(300_000, 1);
    const p = pair(scratch(), src, Buffer.alloc(400_000));
    try {
      expect(native.copyFileRange(p.fdIn, 1000, p.fdOut, 77_777, 200_000)).toBe(200_000);
      expect(native.copyFileRange(p.fdIn, 250_000, p.fdOut, 0, 100_000)).toBe(50_000);
      const want = Buffer.alloc(400_000);
      src.copy(want, 77_777, 1000, 201_000);
      src.copy(want, 0, 250_000, 300_000);
      expect(p.result().equals(want)).toBe(true);
    } finally {
      p.close();
    }
  });

  it.each([
    ['the same filesystem (copy_file_range)', false],
    ['another filesystem (pread/pwrite fallback)', true],
  ])('copyRuns copies every run, in order, to %s', (_what, crossFs) => {
    if (crossFs && !existsSync('/dev/shm')) return;
    const src = randomBytes(1 << 20, 2);
    const dst = randomBytes(1 << 20, 3);
    const runs = randomRuns(1 << 20, 4);
    const dir = scratch();
    const p = pair(dir, src, dst, crossFs ? scratch('/dev/shm') : dir);
    try {
      let want = 0;
      for (let i = 2; i < runs.length; i += 3) want += runs[i] as number;
      expect(native.copyRuns(p.fdIn, p.fdOut, runs)).toBe(want);
      expect(p.result().equals(expected(src, dst, runs))).toBe(true);
    } finally {
      p.close();
    }
  });

  it('copyRuns reports a short copy when the input ends inside a run', () => {
    const p = pair(scratch(), randomBytes(10_000, 5), Buffer.alloc(20_000));
    try {
      expect(native.copyRuns(p.fdIn, p.fdOut, Float64Array.of(0, 0, 4000, 8000, 8000, 4000, 0, 0, 10))).toBe(
        6000,
      );
    } finally {
      p.close();
    }
  });

  it('copyBitmapRuns copies exactly the set bits of a window, clipped to the size', () => {
    const r = rng(6);
    for (const density of [0.02, 0.5, 0.97]) {
      const sectors = 4096;
      const bitmap = new Uint8Array(sectors / 8);
      for (let s = 0; s < sectors; s++)
        if (r() < density) bitmap[s >> 3] = (bitmap[s >> 3] as number) | (1 << (s & 7));
      bitmap[0] = 0xff;
      bitmap[10] = 0;
      bitmap[sectors / 8 - 1] = 0xff;
      const size = sectors * 512 - 300; // a partial last sector
      const dataOffset = 8192;
      const src = randomBytes(dataOffset + sectors * 512, 7);
      const dst = randomBytes(size, 8);
      const p = pair(scratch(), src, dst);
      try {
        const from = 1024;
        const [bytes, runs] = native.copyBitmapRuns(
          p.fdIn,
          p.fdOut,
          bitmap,
          from,
          sectors,
          dataOffset,
          512,
          size,
        );
        const want = Buffer.from(dst);
        let wantBytes = 0;
        let wantRuns = 0;
        let prev = false;
        for (let s = from; s < sectors; s++) {
          const set = ((bitmap[s >> 3] as number) >> (s & 7)) & 1;
          if (set) {
            const len = Math.min(512, size - s * 512);
            src.copy(want, s * 512, dataOffset + s * 512, dataOffset + s * 512 + len);
            wantBytes += len;
            if (!prev) wantRuns++;
          }
          prev = set === 1;
        }
        expect([bytes, runs]).toEqual([wantBytes, wantRuns]);
        expect(p.result().equals(want)).toBe(true);
      } finally {
        p.close();
      }
    }
  });

  it('throws errors with the errno name, the system call and the offset', () => {
    const p = pair(scratch(), randomBytes(8192, 9), Buffer.alloc(8192));
    p.close();
    expect(() => native.copyRuns(p.fdIn, p.fdOut, Float64Array.of(0, 4096, 10))).toThrow(
      expect.objectContaining({ code: 'EBADF', offset: 4096 }),
    );
    const q = pair(scratch(), randomBytes(1024, 10), Buffer.alloc(8192));
    try {
      expect(() =>
        native.copyBitmapRuns(q.fdIn, q.fdOut, Uint8Array.of(0xff, 0xff), 0, 16, 0, 512, 8192),
      ).toThrow(expect.objectContaining({ code: 'EOF' }));
      expect(() => native.copyRuns(q.fdIn, q.fdOut, Float64Array.of(-1, 0, 10))).toThrow(RangeError);
      expect(() => native.copyRuns(q.fdIn, q.fdOut, Float64Array.of(0, 0))).toThrow(TypeError);
      expect(() => native.copyBitmapRuns(q.fdIn, q.fdOut, Uint8Array.of(1), 0, 9, 0, 512, 512)).toThrow(
        RangeError,
      );
    } finally {
      q.close();
    }
  });
});

describe('copyRuns without the addon', () => {
  afterEach(() => {
    delete process.env.UMLKIT_NO_NATIVE_FILEIO;
    resetFileIo();
  });

  it('copies the same bytes in JavaScript and reports a short input the same way', () => {
    process.env.UMLKIT_NO_NATIVE_FILEIO = '1';
    resetFileIo();
    expect(nativeFileIo()).toBeNull();
    const src = randomBytes(1 << 20, 11);
    const dst = randomBytes(1 << 20, 12);
    const runs = Float64Array.from([...randomRuns(1 << 20, 13), (1 << 20) - 100, 0, 400]);
    const p = pair(scratch(), src, dst);
    try {
      let want = 100;
      for (let i = 2; i < runs.length - 3; i += 3) want += runs[i] as number;
      expect(copyRuns(p.fdIn, p.fdOut, runs)).toBe(want);
      expect(
        p
          .result()
          .subarray(100)
          .equals(expected(src, dst, runs.subarray(0, -3)).subarray(100)),
      ).toBe(true);
    } finally {
      p.close();
    }
  });
});
