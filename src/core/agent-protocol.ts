// Framing of the agent line: the dedicated UML serial line (ttyS1) that carries commands, their
// streams and their exit status between the host and our agent in the guest. Pure: bytes in, values out.
//
// Frame: u8 type | u32 LE session | u32 LE length | payload. The line runs in raw mode on both ends,
// so every byte value passes untouched. native/agent/agent.c is the other half of this file.

export const FRAME_HEADER_BYTES = 9;
/** Largest payload either side sends; the decoder refuses anything bigger as a protocol error. */
export const MAX_FRAME_PAYLOAD = 1 << 20;
/**
 * Stdin bytes the host may have in flight per session before the agent acknowledges them. Kept below
 * the guest tty's 4 KiB input buffer: once that fills, UML 6.1 throttles the line and only resumes
 * reading the host end when more host data arrives, so a larger window stalls the stream.
 */
export const STDIN_WINDOW_BYTES = 3072;
export const AGENT_PROTOCOL_VERSION = 1;

/** Guest → host frame types. */
export const G = {
  HELLO: 0x01,
  STARTED: 0x02,
  STDOUT: 0x03,
  STDERR: 0x04,
  EXIT: 0x05,
  ERROR: 0x06,
  PONG: 0x07,
  STDIN_ACK: 0x08,
} as const;

/** Host → guest frame types. */
export const H = {
  EXEC: 0x81,
  STDIN: 0x82,
  STDIN_EOF: 0x83,
  SIGNAL: 0x84,
  RESIZE: 0x85,
  PING: 0x86,
  POWEROFF: 0x87,
} as const;

export interface Frame {
  readonly type: number;
  readonly session: number;
  readonly payload: Uint8Array;
}

export function encodeFrame(
  type: number,
  session: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, type);
  view.setUint32(1, session, true);
  view.setUint32(5, payload.length, true);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** What the host asks the agent to run. */
export interface ExecRequest {
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly tty: boolean;
  readonly rows: number;
  readonly cols: number;
  /**
   * The command's stdin is empty (it reads EOF at once): the agent gives it a shared pipe without a writer,
   * so no stdin pipe is made and no end-of-input frame has to follow. Ignored with a tty.
   */
  readonly noStdin?: boolean;
}

/** PATH for the commands umlkit itself runs in a guest (network setup, shutdown, the demo). */
export const GUEST_SYSTEM_PATH = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';

/** A command umlkit itself runs in the guest: the system PATH, cwd /, no terminal, no stdin. */
export const internalCommand = (argv: readonly string[]): ExecRequest => ({
  argv,
  env: [GUEST_SYSTEM_PATH],
  cwd: '/',
  tty: false,
  rows: 0,
  cols: 0,
  noStdin: true,
});

/** Bits of the EXEC flags word. */
export const EXEC_FLAG = { tty: 1, noStdin: 2 } as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** EXEC payload: u32 flags | u16 rows | u16 cols | u32 argc | u32 envc | cwd\0 argv…\0 env…\0 */
export function encodeExec(req: ExecRequest): Uint8Array {
  const strings = [req.cwd, ...req.argv, ...req.env].map((s) => encoder.encode(s));
  for (const s of strings) {
    if (s.includes(0)) throw new RangeError('argument contains a NUL byte');
  }
  const total = 16 + strings.reduce((n, s) => n + s.length + 1, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, (req.tty ? EXEC_FLAG.tty : 0) | (req.noStdin ? EXEC_FLAG.noStdin : 0), true);
  view.setUint16(4, req.rows, true);
  view.setUint16(6, req.cols, true);
  view.setUint32(8, req.argv.length, true);
  view.setUint32(12, req.env.length, true);
  let at = 16;
  for (const s of strings) {
    out.set(s, at);
    at += s.length + 1;
  }
  return out;
}

/** Inverse of encodeExec; used by tests and by the fake agent. Returns undefined on malformed input. */
export function decodeExec(payload: Uint8Array): ExecRequest | undefined {
  if (payload.length < 16) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const argc = view.getUint32(8, true);
  const envc = view.getUint32(12, true);
  const parts: string[] = [];
  let at = 16;
  while (at < payload.length) {
    const end = payload.indexOf(0, at);
    if (end < 0) return undefined;
    parts.push(decoder.decode(payload.subarray(at, end)));
    at = end + 1;
  }
  if (parts.length !== 1 + argc + envc) return undefined;
  const flags = view.getUint32(0, true);
  return {
    tty: (flags & EXEC_FLAG.tty) !== 0,
    ...((flags & EXEC_FLAG.noStdin) !== 0 ? { noStdin: true } : {}),
    rows: view.getUint16(4, true),
    cols: view.getUint16(6, true),
    cwd: parts[0] ?? '/',
    argv: parts.slice(1, 1 + argc),
    env: parts.slice(1 + argc),
  };
}

export const u32le = (n: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
};

export const i32pair = (a: number, b: number): Uint8Array => {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setInt32(0, a, true);
  view.setInt32(4, b, true);
  return out;
};

export function readI32(payload: Uint8Array, offset: number): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getInt32(offset, true);
}

export function resizePayload(rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(4);
  const view = new DataView(out.buffer);
  view.setUint16(0, rows, true);
  view.setUint16(2, cols, true);
  return out;
}

/** Inverse of resizePayload. */
export function readResize(payload: Uint8Array): { rows: number; cols: number } {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return payload.length >= 4
    ? { rows: view.getUint16(0, true), cols: view.getUint16(2, true) }
    : { rows: 24, cols: 80 };
}

export const textPayload = (s: string): Uint8Array => encoder.encode(s);
export const payloadText = (p: Uint8Array): string => decoder.decode(p);

/**
 * Incremental decoder: push chunks as they arrive, get whole frames out. Chunks may split frames anywhere.
 * A frame larger than MAX_FRAME_PAYLOAD is reported as an error, since it can only mean a desynchronised line.
 */
export class FrameDecoder {
  private buffer = new Uint8Array(0);
  private used = 0;

  push(chunk: Uint8Array): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    let at = 0;
    while (this.used - at >= FRAME_HEADER_BYTES) {
      const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + at, FRAME_HEADER_BYTES);
      const length = view.getUint32(5, true);
      if (length > MAX_FRAME_PAYLOAD) {
        throw new RangeError(`frame of ${length} bytes exceeds the ${MAX_FRAME_PAYLOAD}-byte limit`);
      }
      if (this.used - at < FRAME_HEADER_BYTES + length) break;
      const start = at + FRAME_HEADER_BYTES;
      frames.push({
        type: view.getUint8(0),
        session: view.getUint32(1, true),
        payload: this.buffer.slice(start, start + length),
      });
      at = start + length;
    }
    if (at > 0) {
      this.buffer.copyWithin(0, at, this.used);
      this.used -= at;
    }
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pending(): number {
    return this.used;
  }

  private append(chunk: Uint8Array): void {
    if (this.used + chunk.length > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.used + chunk.length, 65536));
      grown.set(this.buffer.subarray(0, this.used));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.used);
    this.used += chunk.length;
  }
}
