import { describe, expect, it } from 'vitest';
import { MacTable } from './mac-table.ts';

describe('MacTable', () => {
  it('learns, ages out, forgets a port, stays bounded', () => {
    let now = 0;
    const t = new MacTable<number>({ now: () => now, agingMs: 1000, maxEntries: 2 });
    t.learn('02:00:00:00:00:01', 1);
    expect(t.lookup('02:00:00:00:00:01')).toBe(1);
    now = 1500;
    expect(t.lookup('02:00:00:00:00:01')).toBeUndefined();
    t.learn('02:00:00:00:00:01', 1);
    t.learn('02:00:00:00:00:02', 2);
    t.learn('02:00:00:00:00:01', 3); // moved: refreshed, now the newest
    t.learn('02:00:00:00:00:03', 4); // evicts the least recently seen (…02)
    expect(t.lookup('02:00:00:00:00:02')).toBeUndefined();
    expect(t.lookup('02:00:00:00:00:01')).toBe(3);
    t.forgetPort(3);
    expect(t.lookup('02:00:00:00:00:01')).toBeUndefined();
    expect(t.entries().map((e) => e.port)).toEqual([4]);
  });
});
