import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeExec,
  encodeExec,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  G,
  H,
  MAX_FRAME_PAYLOAD,
} from './agent-protocol.ts';

describe('frames', () => {
  it('lays out type, LE session and LE length before the payload', () => {
    const f = encodeFrame(G.STDOUT, 0x01020304, new Uint8Array([9, 8]));
    expect([...f]).toEqual([0x03, 4, 3, 2, 1, 2, 0, 0, 0, 9, 8]);
  });

  it('reassembles frames however the byte stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.integer({ min: 0, max: 255 }),
            session: fc.nat(),
            payload: fc.uint8Array({ maxLength: 300 }),
          }),
          {
            maxLength: 20,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        (frames, cuts) => {
          const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.session, f.payload)));
          const decoder = new FrameDecoder();
          const out = [];
          let at = 0;
          let i = 0;
          while (at < bytes.length) {
            const n = cuts[i++ % cuts.length] as number;
            out.push(...decoder.push(bytes.subarray(at, at + n)));
            at += n;
          }
          expect(out.map((f) => ({ type: f.type, session: f.session, payload: f.payload }))).toEqual(frames);
          expect(decoder.pending).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a partial frame pending', () => {
    const d = new FrameDecoder();
    const f = encodeFrame(H.PING, 7, new Uint8Array([1, 2, 3]));
    expect(d.push(f.subarray(0, FRAME_HEADER_BYTES + 1))).toEqual([]);
    expect(d.pending).toBe(FRAME_HEADER_BYTES + 1);
    expect(d.push(f.subarray(FRAME_HEADER_BYTES + 1))).toHaveLength(1);
  });

  it('refuses a length that can only mean a desynchronised line', () => {
    const bad = new Uint8Array(FRAME_HEADER_BYTES);
    new DataView(bad.buffer).setUint32(5, MAX_FRAME_PAYLOAD + 1, true);
    expect(() => new FrameDecoder().push(bad)).toThrow(/exceeds/);
  });
});

describe('exec requests', () => {
  it('round-trips argv, env, cwd and terminal size', () => {
    const req = {
      argv: ['sh', '-c', 'echo é'],
      env: ['A=1', 'B='],
      cwd: '/tmp',
      tty: true,
      rows: 40,
      cols: 132,
    };
    expect(decodeExec(encodeExec(req))).toEqual(req);
  });
  it('carries the empty-stdin flag beside the tty flag, and leaves it out when unset', () => {
    const req = { argv: ['true'], env: [], cwd: '/', tty: false, rows: 0, cols: 0, noStdin: true };
    const p = encodeExec(req);
    expect(new DataView(p.buffer).getUint32(0, true)).toBe(2);
    expect(decodeExec(p)).toEqual(req);
    expect(decodeExec(encodeExec({ ...req, noStdin: false }))).not.toHaveProperty('noStdin');
  });
  it('refuses arguments with NUL bytes, which argv cannot carry', () => {
    expect(() => encodeExec({ argv: ['a\0b'], env: [], cwd: '/', tty: false, rows: 0, cols: 0 })).toThrow(
      /NUL/,
    );
  });
  it('rejects truncated payloads', () => {
    const p = encodeExec({ argv: ['true'], env: [], cwd: '/', tty: false, rows: 0, cols: 0 });
    expect(decodeExec(p.subarray(0, p.length - 1))).toBeUndefined();
    expect(decodeExec(p.subarray(0, 8))).toBeUndefined();
  });
});
