import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeLegacyHeader } from '../../../test/helpers/cow-legacy.ts';
import { isUmlError } from '../errors.ts';
import { decodeCowHeader } from './decode-header.ts';
import { backingPathPatch, encodeCowHeaderV3 } from './encode-header.ts';
import { encodePath } from './path-bytes.ts';

const fixtures = join(import.meta.dirname, '../../../test/fixtures/cow');

describe('encodeCowHeaderV3', () => {
  it('writes exactly the bytes uml_mkcow writes (golden)', () => {
    const golden = readFileSync(join(fixtures, 'uml_mkcow-v3-64MiB.header'));
    const ours = encodeCowHeaderV3({
      backingPathBytes: encodePath('/tmp/umlkit-golden/base.img'),
      mtime: 1700000000,
      sizeBytes: 64 * 1024 * 1024,
    });
    expect(Buffer.from(ours).equals(golden)).toBe(true);
  });

  it('refuses what does not fit: long path, NUL in path, mtime outside u32, huge size', () => {
    const bad = [
      { backingPathBytes: new Uint8Array(4096).fill(0x61), mtime: 1, sizeBytes: 512 },
      { backingPathBytes: new Uint8Array([0x2f, 0, 0x61]), mtime: 1, sizeBytes: 512 },
      { backingPathBytes: encodePath('/b'), mtime: -1, sizeBytes: 512 },
      { backingPathBytes: encodePath('/b'), mtime: 2 ** 32, sizeBytes: 512 },
      { backingPathBytes: encodePath('/b'), mtime: 1, sizeBytes: 2 ** 43 },
    ];
    for (const o of bad)
      expect(() => encodeCowHeaderV3(o)).toThrow(expect.objectContaining({ code: 'COW_INVALID' }));
    expect(() =>
      encodeCowHeaderV3({ backingPathBytes: new Uint8Array(4095).fill(0x61), mtime: 1, sizeBytes: 512 }),
    ).not.toThrow();
  });
});

describe('backingPathPatch', () => {
  const apply = (bytes: Uint8Array, p: { offset: number; bytes: Uint8Array }): Uint8Array => {
    const out = bytes.slice();
    out.set(p.bytes, p.offset);
    return out;
  };
  it.each(['v1', 'v2', 'v3', 'v3-broken'] as const)(
    're-points a %s header and keeps every other field',
    (kind) => {
      const before = encodeLegacyHeader(kind, {
        path: encodePath('/old/long/path/base.img'),
        mtime: 77,
        sizeBytes: 1 << 20,
      });
      const h = decodeCowHeader(before, 'x');
      const after = decodeCowHeader(apply(before, backingPathPatch(h, encodePath('/new.img'))), 'x');
      expect(after).toMatchObject({ kind, backingPath: '/new.img', mtime: 77, sizeBytes: 1 << 20 });
    },
  );
  it('refuses a path longer than v1 can hold', () => {
    const h = decodeCowHeader(
      encodeLegacyHeader('v1', { path: encodePath('/b'), mtime: 1, sizeBytes: 512 }),
      'x',
    );
    try {
      backingPathPatch(h, new Uint8Array(256).fill(0x61));
      expect.unreachable();
    } catch (e) {
      expect(isUmlError(e, 'COW_INVALID')).toBe(true);
    }
  });
});
