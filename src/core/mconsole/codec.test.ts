// Golden-byte tests of the mconsole codec against datagrams captured from the real 6.1 kernel.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  recordedCase,
  recordedCases,
  recordedCwd,
  recordedNotification,
} from '../../../test/helpers/mconsole-fixtures.ts';
import { isUmlError } from '../errors.ts';
import {
  decodeNotify,
  decodeReply,
  decodeRequest,
  encodeNotify,
  encodeReply,
  encodeRequest,
} from './codec.ts';
import { MCONSOLE_MAGIC, NOTIFY } from './constants.ts';
import { assembleReply } from './reply.ts';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const bytes = (...words: number[]): number[] =>
  words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff]);

describe('encodeRequest', () => {
  it('produces the exact 524-byte datagrams uml_mconsole sent, for every recorded command', () => {
    const sent = recordedCases.filter((c) => !c.raw).flatMap((c) => c.exchanges);
    expect(sent.length).toBeGreaterThan(25);
    for (const x of sent) {
      expect(x.request.length).toBe(524);
      expect(encodeRequest(decodeRequest(x.request).command, { pad: true })).toEqual(x.request);
    }
  });

  it('produces the short 12 + len form by default, which the kernel also answers', () => {
    const c = recordedCase('raw-version-short');
    expect(encodeRequest('version')).toEqual(c.exchanges[0]?.request);
    expect(Array.from(encodeRequest('version').subarray(0, 12))).toEqual(bytes(MCONSOLE_MAGIC, 2, 7));
    expect(text(decodeReply(c.exchanges[0]?.replies[0] as Uint8Array).data)).toMatch(
      /^Linux \(none\) 6\.1\.176 /,
    );
  });

  it('accepts 511 bytes and refuses 512 (the kernel writes data[len] = 0) and NUL bytes', () => {
    expect(encodeRequest('x'.repeat(511)).length).toBe(523);
    expect(() => encodeRequest('x'.repeat(512))).toThrow(/512 bytes; the limit is 511/);
    expect(() => encodeRequest('ver\0sion')).toThrow(/NUL/);
  });
});

describe('decodeReply', () => {
  it('reads the recorded version reply: err 0, more 0, len 60, 72 bytes in all', () => {
    const packet = recordedCase('version').exchanges[0]?.replies[0] as Uint8Array;
    expect(packet.length).toBe(72);
    expect(Array.from(packet.subarray(0, 12))).toEqual(bytes(0, 0, 60));
    const r = decodeReply(packet);
    expect(r).toMatchObject({ err: 0, more: false });
    expect(text(r.data)).toBe('Linux (none) 6.1.176 #1 Sat Jul  4 15:38:16 UTC 2026 x86_64');
  });

  it('reads negative errnos: remove of an absent ubd is -19', () => {
    const r = decodeReply(recordedCase('remove-ubdb-absent').exchanges[0]?.replies[0] as Uint8Array);
    expect(r.err).toBe(-19);
    expect(text(r.data)).toBe("Device doesn't exist");
  });

  it('re-encodes every recorded reply packet to the same bytes (the kernel framing, exactly)', () => {
    let n = 0;
    for (const c of recordedCases) {
      for (const x of c.exchanges) {
        for (const p of x.replies) {
          if (p.length === 63) continue; // the header-less v0 text, checked below
          const r = decodeReply(p);
          expect(encodeReply(r.data, r.err, r.more)).toEqual([p]);
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(60);
  });

  it('splits long text into 511-byte chunks as the kernel did for `help` (packets of 524 and 224 bytes)', () => {
    const packets = recordedCase('help').exchanges[0]?.replies as Uint8Array[];
    expect(packets.map((p) => p.length)).toEqual([524, 224]);
    const whole = assembleReply(packets.map(decodeReply));
    expect(encodeReply(whole.data)).toEqual(packets);
  });

  it('recognises the raw text a wrong-magic request gets (63 bytes, no header)', () => {
    const p = recordedCase('raw-bad-magic').exchanges[0]?.replies[0] as Uint8Array;
    expect(p.length).toBe(63);
    expect(decodeReply(p)).toMatchObject({ err: 1, more: false, v0: true });
    expect(text(decodeReply(p).data)).toBe('Version 0 mconsole clients are not supported by this driver');
  });

  it('shows both replies of a version-1 request: the refusal, then the command runs anyway', () => {
    const [refusal, result] = (recordedCase('raw-version-1').exchanges[0]?.replies ?? []).map(decodeReply);
    expect(refusal).toMatchObject({ err: 1, more: false });
    expect(text(refusal?.data as Uint8Array)).toBe('This driver only supports version 2 clients');
    expect(text(result?.data as Uint8Array)).toMatch(/^Linux /);
    expect(encodeRequest('version', { version: 1 })).toEqual(
      recordedCase('raw-version-1').exchanges[0]?.request,
    );
  });

  it('reads "Request too large" for len >= 512', () => {
    const r = decodeReply(recordedCase('raw-too-large').exchanges[0]?.replies[0] as Uint8Array);
    expect(r.err).toBe(1);
    expect(text(r.data)).toBe('Request too large');
  });

  it('shows that `sysrq c` never sends a final packet', () => {
    const packets = (recordedCase('raw-sysrq-c').exchanges[0]?.replies ?? []).map(decodeReply);
    expect(packets.length).toBeGreaterThan(0);
    expect(packets.every((p) => p.more)).toBe(true);
    expect(text(packets[0]?.data as Uint8Array)).toContain('sysrq: Trigger a crash');
  });

  it('refuses datagrams that are not replies with MCONSOLE_PROTOCOL', () => {
    for (const bad of [
      new Uint8Array(5),
      new Uint8Array(bytes(0, 0, 0, 0)),
      new Uint8Array(bytes(0, 2, 1, 0)),
      new Uint8Array(bytes(0, 0, 600, 0)),
    ]) {
      let err: unknown;
      try {
        decodeReply(bad);
      } catch (e) {
        err = e;
      }
      expect(isUmlError(err, 'MCONSOLE_PROTOCOL')).toBe(true);
    }
  });

  it('round-trips any text through encodeReply, decodeReply and assembly', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }).map((b) => b.map((x) => x || 1)),
        fc.integer({ min: -40, max: 1 }),
        (data, err) => {
          const packets = encodeReply(data, err).map(decodeReply);
          expect(packets.every((p, i) => p.more === i < packets.length - 1)).toBe(true);
          const r = assembleReply(packets);
          expect(r.data).toEqual(data);
          expect(r.err).toBe(err);
        },
      ),
    );
  });
});

describe('decodeNotify', () => {
  it('reads the SOCKET notification: the mconsole path with its NUL', () => {
    const raw = recordedNotification('socket');
    const n = decodeNotify(raw);
    expect(n.type).toBe(NOTIFY.SOCKET);
    expect(n.text).toBe(`${recordedCwd}/u/rec1/mconsole`);
    expect(n.data[n.data.length - 1]).toBe(0);
    expect(encodeNotify(n.type, n.data)).toEqual(raw);
  });

  it('reads USER_NOTIFY: exactly the bytes the guest wrote to /proc/mconsole', () => {
    const raw = recordedNotification('user');
    expect(Array.from(raw.subarray(0, 16))).toEqual(bytes(MCONSOLE_MAGIC, 2, 3, 6));
    const n = decodeNotify(raw);
    expect(n).toMatchObject({ type: NOTIFY.USER_NOTIFY, text: 'booted' });
    expect(n.data.length).toBe(6);
    expect(encodeNotify(NOTIFY.USER_NOTIFY, 'booted')).toEqual(raw);
  });

  it('reads PANIC: the panic message with its NUL', () => {
    const n = decodeNotify(recordedNotification('panic'));
    expect(n).toMatchObject({ type: NOTIFY.PANIC, text: 'sysrq triggered crash' });
  });

  it('reads HANG (synthetic: only uml_watchdog sends it, after 60 s)', () => {
    const raw = encodeNotify(NOTIFY.HANG, '');
    expect(raw.length).toBe(16);
    expect(decodeNotify(raw)).toMatchObject({ type: NOTIFY.HANG, text: '' });
  });

  it('refuses a bad magic, version, type or length', () => {
    const good = encodeNotify(NOTIFY.USER_NOTIFY, 'x');
    const variants = [0, 4, 8, 12].map((at) => {
      const b = good.slice();
      b[at] = (b[at] ?? 0) ^ 0x40;
      return b;
    });
    for (const b of [...variants, good.subarray(0, 10), good.subarray(0, 16)]) {
      expect(() => decodeNotify(b)).toThrow(/notification/);
    }
  });
});
