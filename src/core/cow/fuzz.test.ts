// Fuzzes the whole read path of a header (decode, layout, bounds checks) with generated and mutated inputs:
// each must give a header or a typed COW_INVALID, never another exception, and quickly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeLegacyHeader } from '../../../test/helpers/cow-legacy.ts';
import { isUmlError } from '../errors.ts';
import { countDirty, lastDirty } from './bitmap.ts';
import { decodeCowHeader } from './decode-header.ts';
import { MAX_HEADER_BYTES } from './format.ts';
import { checkDirtyDataFits, checkLayoutFits, cowLayout } from './layout.ts';
import { encodePath } from './path-bytes.ts';

/** What a host reader does with the first bytes of a file of `fileBytes`; returns 'ok' or the error code. */
function readAll(bytes: Uint8Array, fileBytes: number): string {
  try {
    const h = decodeCowHeader(bytes.subarray(0, MAX_HEADER_BYTES), 'fuzz.cow');
    const l = cowLayout(h);
    if (!Number.isSafeInteger(l.dataOffset) || l.bitmapBytes < 0) throw new Error('layout overflow');
    checkLayoutFits(l, fileBytes, 'fuzz.cow');
    // Only now is the bitmap known to lie inside the file, so it is safe to take (never bigger than the input).
    const bitmap = bytes.subarray(l.bitmapOffset, l.bitmapOffset + l.bitmapBytes);
    countDirty(bitmap, l.mappedSectors);
    checkDirtyDataFits(
      l,
      h.sectorSize,
      h.sizeBytes,
      lastDirty(bitmap, l.mappedSectors),
      fileBytes,
      'fuzz.cow',
    );
    return 'ok';
  } catch (e) {
    if (isUmlError(e, 'COW_INVALID')) return 'COW_INVALID';
    throw e;
  }
}

const kinds = ['v1', 'v2', 'v3', 'v3-broken'] as const;
/** A valid header of some version, to mutate: random bytes alone almost never get past the magic. */
const validHeader = fc
  .record({
    kind: fc.constantFrom(...kinds),
    path: fc.uint8Array({ minLength: 1, maxLength: 200 }).map((p) => p.map((b) => b || 0x2f)),
    mtime: fc.nat({ max: 0xffffffff }),
    sizeBytes: fc.oneof(fc.nat({ max: 1 << 16 }), fc.constantFrom(64 << 20, 2 ** 42, 2 ** 42 + 1)),
    alignment: fc.constantFrom(512, 4096, 65536),
    tail: fc.nat({ max: 70000 }),
  })
  .map(({ kind, tail, ...f }) => {
    const head = encodeLegacyHeader(kind, { ...f, path: f.path });
    const out = new Uint8Array(Math.min(head.length + tail, MAX_HEADER_BYTES + 8192));
    out.set(head.subarray(0, out.length));
    return out;
  });

const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 });

describe('COW header fuzz', () => {
  it('typed errors only, on 10,000 mutated valid headers and 2,000 random byte strings', () => {
    const started = Date.now();
    let ok = 0;
    fc.assert(
      fc.property(
        validHeader,
        mutation,
        fc.nat({ max: 4 * 1024 * 1024 }),
        fc.boolean(),
        (bytes, muts, fakeSize, truncate) => {
          for (const [at, value] of muts) bytes[at % bytes.length] = value;
          const view = truncate ? bytes.subarray(0, fakeSize % (bytes.length + 1)) : bytes;
          const result = readAll(view, truncate ? view.length : Math.max(view.length, fakeSize));
          if (result === 'ok') ok++;
          expect(['ok', 'COW_INVALID']).toContain(result);
        },
      ),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => {
        expect(['ok', 'COW_INVALID']).toContain(readAll(bytes, bytes.length));
      }),
      { numRuns: 2_000 },
    );
    // Some mutations must leave a readable header, or the fuzz only ever tests the first check.
    expect(ok).toBeGreaterThan(100);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('accepts every valid header of every version with its full file length', () => {
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.nat({ max: 1 << 24 }), (kind, sizeBytes) => {
        const head = encodeLegacyHeader(kind, { path: encodePath('/base.img'), mtime: 5, sizeBytes });
        const h = decodeCowHeader(head, 'x');
        const l = cowLayout(h);
        checkLayoutFits(l, l.fullFileBytes, 'x');
        expect(l.dataOffset % 512).toBe(0);
        expect(l.bitmapOffset).toBeGreaterThanOrEqual(h.headerBytes);
      }),
      { numRuns: 500 },
    );
  });
});
