// Multi-packet reply assembly, on replies recorded from the real kernel.
import { describe, expect, it } from 'vitest';
import { recordedCase } from '../../../test/helpers/mconsole-fixtures.ts';
import { decodeReply, type ReplyPacket } from './codec.ts';
import { assembleReply, ReplyAssembler } from './reply.ts';

const packetsOf = (name: string): ReplyPacket[] =>
  (recordedCase(name).exchanges[0]?.replies ?? []).map(decodeReply);

describe('ReplyAssembler', () => {
  it('collects `stack 1` (many packets) and completes only at more = 0', () => {
    const packets = packetsOf('stack-1');
    expect(packets.length).toBeGreaterThan(5);
    const a = new ReplyAssembler();
    for (const p of packets.slice(0, -1)) expect(a.push(p)).toBeUndefined();
    const reply = a.push(packets[packets.length - 1] as ReplyPacket);
    expect(reply?.text).toMatch(/^Stack:\n[\s\S]*Call Trace:\n[\s\S]*new_thread_handler/);
    expect(reply?.packets.length).toBe(packets.length);
    expect(() => a.push(packets[0] as ReplyPacket)).toThrow(/complete/);
  });

  it('keeps the leading "\\n" packet of `proc` replies (uml_mconsole prints it too)', () => {
    const reply = assembleReply(packetsOf('proc-partitions'));
    expect(reply.text).toMatch(
      /^\nmajor minor {2}#blocks {2}name\n\n {2}98 +0 +65536 ubda\n {2}98 +16 +8192 ubdb\n/,
    );
    expect(reply.err).toBe(0);
  });

  it('reports err from the first packet and lastErr from the last', () => {
    const reply = assembleReply([
      { err: -19, more: true, data: new Uint8Array([0x61]) },
      { err: 0, more: false, data: new Uint8Array([0x62]) },
    ]);
    expect(reply).toMatchObject({ err: -19, lastErr: 0, text: 'ab' });
  });

  it('exposes what arrived of a reply that never completes (`sysrq c`)', () => {
    const a = new ReplyAssembler();
    for (const p of packetsOf('raw-sysrq-c')) expect(a.push(p)).toBeUndefined();
    expect(a.partial.length).toBeGreaterThan(0);
  });
});
