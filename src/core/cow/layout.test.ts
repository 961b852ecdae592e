import { describe, expect, it } from 'vitest';
import { encodeLegacyHeader } from '../../../test/helpers/cow-legacy.ts';
import { isUmlError } from '../errors.ts';
import { decodeCowHeader } from './decode-header.ts';
import { checkDirtyDataFits, checkLayoutFits, cowLayout } from './layout.ts';
import { encodePath } from './path-bytes.ts';

const path = encodePath('/b');
const layoutOf = (kind: 'v1' | 'v2' | 'v3' | 'v3-broken', sizeBytes: number, alignment = 4096) =>
  cowLayout(decodeCowHeader(encodeLegacyHeader(kind, { path, mtime: 1, sizeBytes, alignment }), 'x'));

describe('cowLayout', () => {
  it('matches uml_mkcow for a 64 MiB base: bitmap @8192 of 16384 bytes, data @24576, file 67133440', () => {
    expect(layoutOf('v3', 64 << 20)).toEqual({
      bitmapOffset: 8192,
      bitmapBytes: 16384,
      dataOffset: 24576,
      sectors: 131072,
      mappedSectors: 131072,
      fullFileBytes: 67133440,
    });
  });

  it('puts the v3 bitmap at 4608 with 512-byte alignment, and the broken v3 one after 4136 bytes', () => {
    expect(layoutOf('v3', 1 << 20, 512).bitmapOffset).toBe(4608);
    expect(layoutOf('v3-broken', 1 << 20, 512).bitmapOffset).toBe(4608);
    expect(layoutOf('v3-broken', 1 << 20, 4096).bitmapOffset).toBe(8192);
  });

  it('uses the historic v1/v2 formulas: bitmap right after the header, data on a sector', () => {
    expect(layoutOf('v1', 1 << 20)).toMatchObject({ bitmapOffset: 280, bitmapBytes: 256, dataOffset: 1024 });
    expect(layoutOf('v2', 1 << 20)).toMatchObject({ bitmapOffset: 4120, bitmapBytes: 256, dataOffset: 4608 });
    // 9 sectors: the historic formula gives 1 byte, so sector 8 has no bit.
    expect(layoutOf('v2', 9 * 512)).toMatchObject({ bitmapBytes: 1, sectors: 9, mappedSectors: 8 });
    expect(layoutOf('v3', 9 * 512)).toMatchObject({ bitmapBytes: 2, sectors: 9, mappedSectors: 9 });
  });

  it('counts a partial last sector', () => {
    expect(layoutOf('v3', 1000)).toMatchObject({ sectors: 2, bitmapBytes: 1 });
  });

  it('refuses a bitmap or data area past the end of the file', () => {
    const l = layoutOf('v3', 64 << 20);
    const code = (fn: () => void): string => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return isUmlError(e) ? `${e.code}:${e.issues[0]?.path}` : 'crash';
      }
    };
    expect(code(() => checkLayoutFits(l, 67133440, 'x'))).toBe('ok');
    expect(code(() => checkLayoutFits(l, 24576, 'x'))).toBe('ok');
    expect(code(() => checkLayoutFits(l, 24575, 'x'))).toBe('COW_INVALID:bitmap');
    const small = layoutOf('v3', 1 << 20); // bitmap @8192 of 256 bytes, data @12288
    expect(code(() => checkLayoutFits(small, 9000, 'x'))).toBe('COW_INVALID:data');
    expect(code(() => checkDirtyDataFits(l, 512, 64 << 20, 9, 24576 + 10 * 512, 'x'))).toBe('ok');
    expect(code(() => checkDirtyDataFits(l, 512, 64 << 20, 10, 24576 + 10 * 512, 'x'))).toBe(
      'COW_INVALID:data',
    );
    expect(code(() => checkDirtyDataFits(l, 512, 64 << 20, -1, 0, 'x'))).toBe('ok');
  });
});
