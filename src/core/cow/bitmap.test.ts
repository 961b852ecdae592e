import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countDirty, dirtyRuns, isDirty, lastDirty, markDirty } from './bitmap.ts';

describe('bitmap', () => {
  it('is least significant bit first: the kernel writing sectors 2-5 gives 0x3c', () => {
    const b = new Uint8Array(2);
    for (const s of [2, 3, 4, 5]) markDirty(b, s);
    expect(b[0]).toBe(0x3c);
    expect(isDirty(b, 1)).toBe(false);
    expect(isDirty(b, 2)).toBe(true);
    expect([...dirtyRuns(b, 16)]).toEqual([{ start: 2, count: 4 }]);
  });

  it('agrees with a bit-by-bit model on random bitmaps', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(600), (bytes, n) => {
        const sectors = Math.min(n, bytes.length * 8 + 5);
        const dirty: number[] = [];
        for (let s = 0; s < Math.min(sectors, bytes.length * 8); s++) if (isDirty(bytes, s)) dirty.push(s);
        expect(countDirty(bytes, sectors)).toBe(dirty.length);
        expect(lastDirty(bytes, sectors)).toBe(dirty.length ? dirty[dirty.length - 1] : -1);
        const expanded = [...dirtyRuns(bytes, sectors)].flatMap((r) =>
          Array.from({ length: r.count }, (_, i) => r.start + i),
        );
        expect(expanded).toEqual(dirty);
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores padding bits past the last sector', () => {
    const b = new Uint8Array([0xff]);
    expect(countDirty(b, 3)).toBe(3);
    expect([...dirtyRuns(b, 3)]).toEqual([{ start: 0, count: 3 }]);
    expect(lastDirty(b, 3)).toBe(2);
  });
});
