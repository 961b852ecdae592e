// Pure framing of mconsole datagrams: requests, reply packets and notifications, bytes in and bytes out.
//
// Every integer is a host-order (little-endian on x86_64) 32-bit word. The encoders of replies and
// notifications exist for fake servers in tests; the client only needs encodeRequest and the decoders.
import { quote, UmlError } from '../errors.ts';
import {
  MCONSOLE_MAGIC,
  MCONSOLE_MAX_COMMAND,
  MCONSOLE_MAX_DATA,
  MCONSOLE_VERSION,
  NOTIFY_HEADER_BYTES,
  type NotifyType,
  REPLY_HEADER_BYTES,
  REQUEST_HEADER_BYTES,
  V0_REJECTION,
} from './constants.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface EncodeRequestOptions {
  /**
   * Send the whole 524-byte struct, zero-padded, as uml_mconsole does. The kernel accepts either;
   * the default is the short 12 + len form.
   */
  readonly pad?: boolean;
  /** Only for tests of the kernel's version check; the 6.1 driver serves version 2 alone. */
  readonly version?: number;
}

/**
 * Frame one command as a request datagram.
 * @throws {UmlError} USAGE when the command is 512 bytes or longer, or contains a NUL.
 */
export function encodeRequest(command: string | Uint8Array, options: EncodeRequestOptions = {}): Uint8Array {
  const text = typeof command === 'string' ? encoder.encode(command) : command;
  if (text.length > MCONSOLE_MAX_COMMAND) {
    throw new UmlError(
      'USAGE',
      `mconsole command is ${text.length} bytes; the limit is ${MCONSOLE_MAX_COMMAND}`,
      {
        hint: 'a request carries at most 511 bytes of text (uml_mconsole silently cuts longer ones)',
      },
    );
  }
  // The kernel matches and parses the text as a C string, so a NUL would silently cut it short.
  if (text.includes(0)) throw new UmlError('USAGE', 'mconsole command contains a NUL byte');
  const out = new Uint8Array(
    options.pad ? REQUEST_HEADER_BYTES + MCONSOLE_MAX_DATA : REQUEST_HEADER_BYTES + text.length,
  );
  const view = new DataView(out.buffer);
  view.setUint32(0, MCONSOLE_MAGIC, true);
  view.setUint32(4, options.version ?? MCONSOLE_VERSION, true);
  view.setUint32(8, text.length, true);
  out.set(text, REQUEST_HEADER_BYTES);
  return out;
}

export interface DecodedRequest {
  readonly magic: number;
  readonly version: number;
  readonly command: string;
}

/** Read a request datagram (what a fake kernel receives). */
export function decodeRequest(bytes: Uint8Array): DecodedRequest {
  if (bytes.length < REQUEST_HEADER_BYTES)
    throw protocolError('request', bytes, 'shorter than its 12-byte header');
  const view = viewOf(bytes);
  const len = view.getUint32(8, true);
  if (len > MCONSOLE_MAX_DATA || REQUEST_HEADER_BYTES + len > bytes.length) {
    throw protocolError(
      'request',
      bytes,
      `claims ${len} data bytes but carries ${bytes.length - REQUEST_HEADER_BYTES}`,
    );
  }
  return {
    magic: view.getUint32(0, true),
    version: view.getUint32(4, true),
    command: decoder.decode(bytes.subarray(REQUEST_HEADER_BYTES, REQUEST_HEADER_BYTES + len)),
  };
}

/** One reply datagram. A reply to one request may span several packets (`more`). */
export interface ReplyPacket {
  /** 0 = OK, 1 = generic error, or a negative errno. The kernel sets it on the first packet only. */
  readonly err: number;
  /** True when further packets follow for the same request. */
  readonly more: boolean;
  /** The text bytes up to (not including) the first NUL, which is how every client reads them. */
  readonly data: Uint8Array;
  /**
   * Set for the header-less text a wrong-magic request gets back; err is then 1 and data the text
   * without its `ERR ` prefix.
   */
  readonly v0?: true;
}

/**
 * Read one reply datagram.
 * @throws {UmlError} MCONSOLE_PROTOCOL when the datagram is not a reply.
 */
export function decodeReply(bytes: Uint8Array): ReplyPacket {
  // Checked first: the 63-byte v0 text would otherwise parse as a header with absurd lengths.
  if (bytes.length === V0_REJECTION.length && decoder.decode(bytes) === V0_REJECTION) {
    return { err: 1, more: false, data: encoder.encode(V0_REJECTION.slice(4)), v0: true };
  }
  if (bytes.length < REPLY_HEADER_BYTES + 1)
    throw protocolError('reply', bytes, 'shorter than a header and a NUL');
  const view = viewOf(bytes);
  const err = view.getInt32(0, true);
  const more = view.getUint32(4, true);
  const len = view.getUint32(8, true);
  if (more > 1) throw protocolError('reply', bytes, `has more = ${more}`);
  if (len < 1 || len > MCONSOLE_MAX_DATA || REPLY_HEADER_BYTES + len > bytes.length) {
    throw protocolError(
      'reply',
      bytes,
      `claims ${len} data bytes but carries ${bytes.length - REPLY_HEADER_BYTES}`,
    );
  }
  const field = bytes.subarray(REPLY_HEADER_BYTES, REPLY_HEADER_BYTES + len);
  const nul = field.indexOf(0);
  return { err, more: more === 1, data: nul < 0 ? field : field.subarray(0, nul) };
}

/**
 * Frame reply packets exactly as the 6.1 kernel does (mconsole_reply_len): 511-byte chunks, each
 * NUL-terminated, `more` on all but the last unless `more` is asked for, err on the first only.
 */
export function encodeReply(text: string | Uint8Array, err = 0, more = false): Uint8Array[] {
  const bytes = typeof text === 'string' ? encoder.encode(text) : text;
  const packets: Uint8Array[] = [];
  let at = 0;
  do {
    const len = Math.min(bytes.length - at, MCONSOLE_MAX_DATA - 1);
    const last = at + len === bytes.length;
    const out = new Uint8Array(REPLY_HEADER_BYTES + len + 1);
    const view = new DataView(out.buffer);
    view.setInt32(0, packets.length === 0 ? err : 0, true);
    view.setUint32(4, last ? (more ? 1 : 0) : 1, true);
    view.setUint32(8, len + 1, true);
    out.set(bytes.subarray(at, at + len), REPLY_HEADER_BYTES);
    packets.push(out);
    at += len;
  } while (at < bytes.length);
  return packets;
}

export interface Notification {
  readonly type: NotifyType;
  /** The payload exactly as sent: SOCKET and PANIC include their NUL, USER_NOTIFY has none added. */
  readonly data: Uint8Array;
  /** The payload as text, cut at the first NUL. */
  readonly text: string;
}

/**
 * Read one datagram from the notify socket (`mconsole=notify:<path>`).
 * @throws {UmlError} MCONSOLE_PROTOCOL for a bad magic, version, type or length.
 */
export function decodeNotify(bytes: Uint8Array): Notification {
  if (bytes.length < NOTIFY_HEADER_BYTES)
    throw protocolError('notification', bytes, 'shorter than its 16-byte header');
  const view = viewOf(bytes);
  const magic = view.getUint32(0, true);
  const version = view.getUint32(4, true);
  const type = view.getUint32(8, true);
  const len = view.getUint32(12, true);
  if (magic !== MCONSOLE_MAGIC)
    throw protocolError('notification', bytes, `has magic 0x${magic.toString(16)}`);
  if (version !== MCONSOLE_VERSION) throw protocolError('notification', bytes, `has version ${version}`);
  if (type > 3) throw protocolError('notification', bytes, `has unknown type ${type}`);
  if (len > MCONSOLE_MAX_DATA || NOTIFY_HEADER_BYTES + len !== bytes.length) {
    throw protocolError(
      'notification',
      bytes,
      `claims ${len} data bytes but carries ${bytes.length - NOTIFY_HEADER_BYTES}`,
    );
  }
  const data = bytes.slice(NOTIFY_HEADER_BYTES);
  const nul = data.indexOf(0);
  return { type: type as NotifyType, data, text: decoder.decode(nul < 0 ? data : data.subarray(0, nul)) };
}

/** Frame a notification as the kernel does (mconsole_notify): the datagram is 16 + len bytes. */
export function encodeNotify(type: NotifyType, data: string | Uint8Array): Uint8Array {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  const len = Math.min(bytes.length, MCONSOLE_MAX_DATA); // the kernel truncates silently
  const out = new Uint8Array(NOTIFY_HEADER_BYTES + len);
  const view = new DataView(out.buffer);
  view.setUint32(0, MCONSOLE_MAGIC, true);
  view.setUint32(4, MCONSOLE_VERSION, true);
  view.setUint32(8, type, true);
  view.setUint32(12, len, true);
  out.set(bytes.subarray(0, len), NOTIFY_HEADER_BYTES);
  return out;
}

const viewOf = (bytes: Uint8Array): DataView =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function protocolError(what: string, bytes: Uint8Array, problem: string): UmlError {
  const head = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return new UmlError('MCONSOLE_PROTOCOL', `mconsole ${what} of ${bytes.length} bytes ${problem}`, {
    details: `first bytes: ${head === '' ? '(none)' : quote(head)}`,
    hint: 'the peer is not a 6.1-compatible UML mconsole; check that the socket belongs to a UML kernel',
  });
}
