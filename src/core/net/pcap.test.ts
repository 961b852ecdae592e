import { describe, expect, it } from 'vitest';
import { pcapGlobalHeader, pcapRecord } from './pcap.ts';

describe('pcap', () => {
  it('writes the classic little-endian header and records', () => {
    expect(Buffer.from(pcapGlobalHeader()).toString('hex')).toBe(
      'd4c3b2a1020004000000000000000000ffff000001000000',
    );
    const r = Buffer.from(pcapRecord(1500.25, Uint8Array.of(1, 2, 3)));
    expect(r.readUInt32LE(0)).toBe(1);
    expect(r.readUInt32LE(4)).toBe(500250);
    expect(r.readUInt32LE(8)).toBe(3);
    expect(r.readUInt32LE(12)).toBe(3);
    expect([...r.subarray(16)]).toEqual([1, 2, 3]);
  });
});
