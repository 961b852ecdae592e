import { describe, expect, it } from 'vitest';
import { encodeCpio } from './cpio.ts';

// Read newc back (the kernel's format): header fields are 8 hex digits, names and data padded to 4.
function decode(bytes: Uint8Array): { name: string; mode: number; data: string }[] {
  const text = new TextDecoder('latin1');
  const out = [];
  let at = 0;
  for (;;) {
    const header = text.decode(bytes.subarray(at, at + 110));
    expect(header.slice(0, 6)).toBe('070701');
    const field = (i: number): number => Number.parseInt(header.slice(6 + i * 8, 14 + i * 8), 16);
    const nameSize = field(11);
    const fileSize = field(6);
    const name = text.decode(bytes.subarray(at + 110, at + 110 + nameSize - 1));
    at += 110 + nameSize;
    at += (4 - (at % 4)) % 4;
    const data = text.decode(bytes.subarray(at, at + fileSize));
    at += fileSize;
    at += (4 - (at % 4)) % 4;
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode: field(1), data });
  }
}

describe('encodeCpio', () => {
  it('writes entries the newc reader gets back, then the trailer', () => {
    const archive = encodeCpio([
      { path: 'dev', mode: 0o040755 },
      { path: 'init', mode: 0o100755, data: new TextEncoder().encode('#!/bin/sh\n') },
      { path: 'odd', mode: 0o100644, data: new TextEncoder().encode('abc') },
    ]);
    expect(archive.length % 4).toBe(0);
    expect(decode(archive)).toEqual([
      { name: 'dev', mode: 0o040755, data: '' },
      { name: 'init', mode: 0o100755, data: '#!/bin/sh\n' },
      { name: 'odd', mode: 0o100644, data: 'abc' },
    ]);
  });
});
