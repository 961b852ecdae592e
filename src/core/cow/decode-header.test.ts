import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeLegacyHeader } from '../../../test/helpers/cow-legacy.ts';
import { isUmlError } from '../errors.ts';
import { decodeCowHeader, hasCowMagic } from './decode-header.ts';
import { encodeCowHeaderV3 } from './encode-header.ts';
import { encodePath } from './path-bytes.ts';

const fixtures = join(import.meta.dirname, '../../../test/fixtures/cow');
const path = encodePath('/tmp/umlkit-golden/base.img');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isUmlError(e)) return `${e.code}:${e.issues[0]?.path ?? ''}`;
    throw e;
  }
  return 'ok';
}

describe('decodeCowHeader', () => {
  it('reads the header uml_mkcow wrote for a 64 MiB base (golden)', () => {
    const h = decodeCowHeader(readFileSync(join(fixtures, 'uml_mkcow-v3-64MiB.header')), 'golden');
    expect(h).toMatchObject({
      kind: 'v3',
      version: 3,
      magicOrder: 'big',
      backingPath: '/tmp/umlkit-golden/base.img',
      mtime: 1700000000,
      sizeBytes: 64 * 1024 * 1024,
      sectorSize: 512,
      alignment: 4096,
      headerBytes: 4128,
    });
  });

  it('reads the header the kernel wrote, stopping at the NUL before its leftover bytes (golden)', () => {
    const bytes = readFileSync(join(fixtures, 'kernel-v3-64MiB.header'));
    const h = decodeCowHeader(bytes, 'golden');
    expect(h.kind).toBe('v3');
    expect(h.backingPath).toMatch(/^\/.*base\.img$/);
    expect(h.sizeBytes).toBe(64 * 1024 * 1024);
  });

  it('reads v1 (little-endian, as x86 kernels wrote it), v2 and the broken 64-bit v3', () => {
    for (const kind of ['v1', 'v2', 'v3-broken', 'v3'] as const) {
      const bytes = encodeLegacyHeader(kind, { path, mtime: 1234567890, sizeBytes: 1 << 20, alignment: 512 });
      const h = decodeCowHeader(bytes, kind);
      expect(h.kind).toBe(kind);
      expect(h.backingPath).toBe('/tmp/umlkit-golden/base.img');
      expect(h.mtime).toBe(1234567890);
      expect(h.sizeBytes).toBe(1 << 20);
      expect(h.magicOrder).toBe(kind === 'v1' ? 'little' : 'big');
    }
  });

  it('round-trips what it writes', () => {
    const bytes = encodeCowHeaderV3({ backingPathBytes: path, mtime: 0xffffffff, sizeBytes: 2 ** 40 + 512 });
    const h = decodeCowHeader(bytes, 'x');
    expect(h.mtime).toBe(0xffffffff);
    expect(h.sizeBytes).toBe(2 ** 40 + 512);
    expect(Array.from(h.backingPathBytes)).toEqual(Array.from(path));
  });

  it('keeps a backing path that is not UTF-8 exact as bytes', () => {
    const odd = new Uint8Array([0x2f, 0xff, 0xfe, 0x61]);
    const h = decodeCowHeader(encodeCowHeaderV3({ backingPathBytes: odd, mtime: 1, sizeBytes: 512 }), 'x');
    expect(Array.from(h.backingPathBytes)).toEqual([0x2f, 0xff, 0xfe, 0x61]);
    expect(h.backingPath).toBe('/\ufffd\ufffda');
  });

  describe('bad input gets a typed error', () => {
    const good = (): Uint8Array =>
      encodeCowHeaderV3({ backingPathBytes: path, mtime: 1, sizeBytes: 1 << 20 });
    const patch = (fn: (v: DataView, b: Uint8Array) => void): Uint8Array => {
      const b = good();
      fn(new DataView(b.buffer), b);
      return b;
    };
    const cases: [string, Uint8Array, string][] = [
      ['empty file', new Uint8Array(0), 'COW_INVALID:length'],
      ['7 bytes', good().subarray(0, 7), 'COW_INVALID:length'],
      ['truncated v3', good().subarray(0, 4000), 'COW_INVALID:length'],
      [
        'truncated v1',
        encodeLegacyHeader('v1', { path, mtime: 1, sizeBytes: 512 }).subarray(0, 279),
        'COW_INVALID:length',
      ],
      ['wrong magic', patch((v) => v.setUint32(0, 0x4f4f4f4e)), 'COW_INVALID:magic'],
      ['ext4 image', new Uint8Array(8192), 'COW_INVALID:magic'],
      [
        'little-endian v3',
        patch((v) => {
          v.setUint32(0, 0x4f4f4f4d, true);
          v.setUint32(4, 3, true);
        }),
        'COW_INVALID:magic',
      ],
      [
        'little-endian v2',
        patch((v) => {
          v.setUint32(0, 0x4f4f4f4d, true);
          v.setUint32(4, 2, true);
        }),
        'COW_INVALID:magic',
      ],
      ['version 4', patch((v) => v.setUint32(4, 4)), 'COW_INVALID:version'],
      ['version 0', patch((v) => v.setUint32(4, 0)), 'COW_INVALID:version'],
      ['path without NUL', patch((_, b) => b.fill(0x41, 32, 4128)), 'COW_INVALID:backing_file'],
      [
        'empty path (read as broken v3, then empty)',
        (() => {
          const b = new Uint8Array(4136);
          b.set(good());
          b.fill(0, 32);
          return b;
        })(),
        'COW_INVALID:backing_file',
      ],
      ['empty path, too short for a broken v3', patch((_, b) => b.fill(0, 32, 4128)), 'COW_INVALID:length'],
      ['zero sector size', patch((v) => v.setUint32(20, 0)), 'COW_INVALID:sectorsize'],
      ['sector size 4096', patch((v) => v.setUint32(20, 4096)), 'COW_INVALID:sectorsize'],
      ['zero alignment', patch((v) => v.setUint32(24, 0)), 'COW_INVALID:alignment'],
      ['alignment 3000', patch((v) => v.setUint32(24, 3000)), 'COW_INVALID:alignment'],
      ['huge alignment', patch((v) => v.setUint32(24, 0x80000000)), 'COW_INVALID:alignment'],
      ['unknown cow_format', patch((v) => v.setUint32(28, 1)), 'COW_INVALID:cow_format'],
      ['huge size', patch((v) => v.setBigUint64(12, 0xffffffffffffffffn)), 'COW_INVALID:size'],
      ['size just over 4 TiB', patch((v) => v.setBigUint64(12, 2n ** 42n + 1n)), 'COW_INVALID:size'],
      [
        'v1 zero sector size',
        encodeLegacyHeader('v1', { path, mtime: 1, sizeBytes: 512, sectorSize: 0 }),
        'COW_INVALID:sectorsize',
      ],
      [
        'v2 negative sector size',
        encodeLegacyHeader('v2', { path, mtime: 1, sizeBytes: 512, sectorSize: -512 }),
        'COW_INVALID:sectorsize',
      ],
      [
        'v1 path without NUL',
        (() => {
          const b = encodeLegacyHeader('v1', { path, mtime: 1, sizeBytes: 512 });
          b.fill(0x2f, 8, 264);
          return b;
        })(),
        'COW_INVALID:backing_file',
      ],
    ];
    it.each(cases)('%s', (_name, bytes, expected) => {
      expect(codeOf(() => decodeCowHeader(bytes, 'bad.cow'))).toBe(expected);
    });

    it('quotes the file and the bad value in the message, with a hint', () => {
      try {
        decodeCowHeader(
          patch((v) => v.setUint32(20, 0)),
          'my\nfile.cow',
        );
        expect.unreachable();
      } catch (e) {
        if (!isUmlError(e)) throw e;
        expect(e.message).toContain('`my\\x0afile.cow`');
        expect(e.message).toContain('`0`');
        expect(e.hint).toBeTruthy();
      }
    });
  });

  it('hasCowMagic recognises both byte orders only', () => {
    expect(hasCowMagic(new Uint8Array([0x4f, 0x4f, 0x4f, 0x4d]))).toBe(true);
    expect(hasCowMagic(new Uint8Array([0x4d, 0x4f, 0x4f, 0x4f]))).toBe(true);
    expect(hasCowMagic(new Uint8Array([0x53, 0xef, 0, 0]))).toBe(false);
    expect(hasCowMagic(new Uint8Array([0x4f]))).toBe(false);
  });
});
