import { describe, expect, it } from 'vitest';
import { decodeL2tp, encodeL2tp, vectorL2tpArg } from './l2tpv3.ts';

describe('l2tpv3', () => {
  it('round-trips and rejects other packets', () => {
    const frame = Uint8Array.from({ length: 42 }, (_, i) => i);
    const p = encodeL2tp(0x5678, frame);
    expect(Buffer.from(p.subarray(0, 8)).toString('hex')).toBe('0003000000005678');
    const d = decodeL2tp(p);
    expect(d?.session).toBe(0x5678);
    expect(Buffer.from(d?.frame ?? []).equals(Buffer.from(frame))).toBe(true);
    expect(decodeL2tp(Uint8Array.of(0, 2, 0, 0, 0, 0, 0, 1, 9))).toBeUndefined();
    expect(decodeL2tp(p.subarray(0, 8))).toBeUndefined();
  });
  it('renders the kernel parameter, refusing sessions that panic UML', () => {
    const arg = vectorL2tpArg({
      index: 1,
      mac: '02:00:00:00:00:01',
      guestPort: 4000,
      switchPort: 5000,
      session: 7,
    });
    expect(arg).toBe(
      'vec1:transport=l2tpv3,udp=1,src=127.0.0.1,dst=127.0.0.1,srcport=4000,dstport=5000,rx_session=7,tx_session=7,mac=02:00:00:00:00:01',
    );
    expect(() =>
      vectorL2tpArg({ index: 0, mac: 'x', guestPort: 1, switchPort: 2, session: 0x80000000 }),
    ).toThrow();
  });
});
