import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDirty } from './bitmap.ts';
import { chooseMergeMode, dirtyWindowRanges, dirtyWindows, sectorWindows } from './windows.ts';

describe('sector windows', () => {
  it('cover the disk, and their runs are exactly the dirty sectors', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(1700),
        fc.constantFrom(8, 16, 64, 2048),
        (bitmap, n, w) => {
          const sectors = Math.min(n, bitmap.length * 8);
          const all = [...sectorWindows(bitmap, sectors, w)];
          expect(all.reduce((a, x) => a + x.count, 0)).toBe(sectors);
          const fromRuns = all.flatMap((x) =>
            x.runs.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.start + i)),
          );
          const model = Array.from({ length: sectors }, (_, s) => s).filter((s) => isDirty(bitmap, s));
          expect(fromRuns).toEqual(model);
          const dirty = [...dirtyWindows(bitmap, sectors, w)];
          expect(dirty.map((x) => x.start)).toEqual(all.filter((x) => x.dirty > 0).map((x) => x.start));
          // The run-less ranges (for the native merge) include every dirty window; any extra one holds
          // only set padding bits past the last sector.
          const ranges = [...dirtyWindowRanges(bitmap, sectors, w)];
          expect(ranges.map((x) => x.start)).toEqual(expect.arrayContaining(dirty.map((x) => x.start)));
          for (const x of ranges) expect(x.count).toBe(all.find((y) => y.start === x.start)?.count);
          for (const x of all)
            for (const r of x.runs)
              expect(r.start >= x.start && r.start + r.count <= x.start + x.count).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rewrites a window only when it has many runs', () => {
    const few = { start: 0, count: 2048, runs: [{ start: 0, count: 100 }], dirty: 100 };
    const many = {
      start: 0,
      count: 2048,
      runs: Array.from({ length: 300 }, (_, i) => ({ start: i * 6, count: 1 })),
      dirty: 300,
    };
    expect(chooseMergeMode(few)).toBe('runs');
    expect(chooseMergeMode(many)).toBe('rewrite');
  });
});
