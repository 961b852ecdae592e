import { describe, expect, it } from 'vitest';
import { deriveMac, macToBytes, normalizeMac } from './mac.ts';

describe('mac', () => {
  it('is stable, locally administered unicast, distinct per machine and NIC', () => {
    expect(deriveMac('web', 0)).toBe(deriveMac('web', 0));
    expect(deriveMac('web', 0)).not.toBe(deriveMac('web', 1));
    expect(deriveMac('web', 0)).not.toBe(deriveMac('db', 0));
    const b = macToBytes(deriveMac('web', 0));
    expect(b[0]).toBe(0x02);
    const all = new Set(Array.from({ length: 200 }, (_, i) => deriveMac(`m${i}`, 0)));
    expect(all.size).toBe(200);
  });
  it('normalizes and refuses multicast or malformed addresses', () => {
    expect(normalizeMac('02:AB:cd:00:11:22')).toBe('02:ab:cd:00:11:22');
    expect(normalizeMac('01:00:5e:00:00:01')).toBeUndefined();
    expect(normalizeMac('02:ab:cd:00:11')).toBeUndefined();
  });
});
