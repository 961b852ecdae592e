import { describe, expect, it } from 'vitest';
import {
  DAEMON_REQUEST_BYTES,
  encodeDaemonRequest,
  encodeSockaddrUn,
  fullAbstractName,
  parseDaemonRequest,
  SOCKADDR_UN_BYTES,
} from './daemon-protocol.ts';

const guest = fullAbstractName('guest\u0001\u0002');

describe('daemon control handshake', () => {
  it('reads back the guest address of a request_v3 laid out as the kernel writes it', () => {
    const req = encodeDaemonRequest(guest);
    expect(req.length).toBe(DAEMON_REQUEST_BYTES);
    // magic 0xfeedface little-endian, version 3, type 0, family 1
    expect([...req.subarray(0, 14)]).toEqual([0xce, 0xfa, 0xed, 0xfe, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    const r = parseDaemonRequest(req);
    expect(r.ok && [...r.address]).toEqual([...guest]);
  });

  it.each([
    ['short', (b: Uint8Array) => b.subarray(0, 100), /100 bytes/],
    ['magic', (b: Uint8Array) => (b.set([1, 2, 3, 4], 0), b), /bad magic/],
    ['version 2', (b: Uint8Array) => (b.set([2], 4), b), /version 2/],
    ['type', (b: Uint8Array) => (b.set([1], 8), b), /REQ_NEW_CONTROL/],
    ['family', (b: Uint8Array) => (b.set([2], 12), b), /AF_UNIX/],
    ['path address', (b: Uint8Array) => (b.set([0x2f], 14), b), /not abstract/],
  ])('refuses a request with a bad %s', (_what, mangle, why) => {
    const r = parseDaemonRequest(mangle(encodeDaemonRequest(guest)));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.why).toMatch(why);
  });

  it('replies with a whole sockaddr_un', () => {
    const reply = encodeSockaddrUn(guest);
    expect(reply.length).toBe(SOCKADDR_UN_BYTES);
    expect([...reply.subarray(0, 2)]).toEqual([1, 0]);
    expect([...reply.subarray(2)]).toEqual([...guest]);
    expect(() => encodeSockaddrUn(guest.subarray(1))).toThrow(RangeError);
  });

  it('pads abstract names to the full 108 bytes', () => {
    const n = fullAbstractName('umlkit');
    expect(n.length).toBe(108);
    expect(n[0]).toBe(0);
    expect(new TextDecoder().decode(n.subarray(1, 7))).toBe('umlkit');
    expect(n.subarray(7).every((b) => b === 0)).toBe(true);
    expect(() => fullAbstractName('x'.repeat(108))).toThrow(RangeError);
  });
});
