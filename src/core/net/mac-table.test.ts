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

describe('MacTable changes told to a copy', () => {
  it('says when an address is new or moved, and names every address it forgets', () => {
    let now = 0;
    const gone: string[] = [];
    const t = new MacTable<number>({
      now: () => now,
      agingMs: 1000,
      maxEntries: 2,
      onForget: (m) => gone.push(m),
    });
    expect(t.learn('02:00:00:00:00:01', 1)).toBe(true);
    expect(t.learn('02:00:00:00:00:01', 1)).toBe(false); // only the time moved
    now = 1200;
    expect(t.learn('02:00:00:00:00:01', 1)).toBe(false); // refreshed after a second: same port
    expect(t.learn('02:00:00:00:00:01', 2)).toBe(true); // moved
    expect(t.learn('02:00:00:00:00:02', 2)).toBe(true);
    t.learn('02:00:00:00:00:03', 3); // evicts …01, the least recently seen
    expect(gone).toEqual(['02:00:00:00:00:01']);
    now = 2000;
    t.learn('02:00:00:00:00:03', 3);
    now = 2300; // …02 was last seen at 1200: older than the aging time
    t.sweep();
    expect(gone).toEqual(['02:00:00:00:00:01', '02:00:00:00:00:02']);
    expect(t.entries().map((e) => e.mac)).toEqual(['02:00:00:00:00:03']);
    t.forgetPort(3);
    expect(gone.at(-1)).toBe('02:00:00:00:00:03');
  });
});
