// The control handshake of uml_switch's `daemon` transport, as 6.1 kernels speak it (docs/networking.md,
// "Daemon ports"): the kernel connects a stream socket to the port's control path and writes one 124-byte
// request_v3 naming its own data socket; the switch answers with the 110-byte sockaddr_un of its data
// socket. Frames then travel as one raw Ethernet frame per unix datagram between the two data sockets.

/** sizeof(struct request_v3): magic, version, type, sockaddr_un, 2 bytes of padding. */
export const DAEMON_REQUEST_BYTES = 124;
/** sizeof(struct sockaddr_un) on Linux: sa_family (2) + sun_path (108). */
export const SOCKADDR_UN_BYTES = 110;
/** The name part of an address; the kernel binds and sends with all 108 bytes (abstract, binary). */
export const SUN_PATH_BYTES = 108;

const MAGIC = 0xfeedface;
const VERSION = 3;
const REQ_NEW_CONTROL = 0;
const AF_UNIX = 1;

export type DaemonRequest =
  | { readonly ok: true; readonly address: Uint8Array }
  | { readonly ok: false; readonly why: string };

/** The guest's data socket address (108 bytes of sun_path) from a request_v3, or why it is refused. */
export function parseDaemonRequest(bytes: Uint8Array): DaemonRequest {
  if (bytes.length < DAEMON_REQUEST_BYTES)
    return { ok: false, why: `request is ${bytes.length} bytes, expected ${DAEMON_REQUEST_BYTES}` };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The kernel writes host-endian fields; UML runs on x86-64 only, so little-endian.
  const magic = v.getUint32(0, true);
  if (magic !== MAGIC) return { ok: false, why: `bad magic 0x${magic.toString(16)}` };
  const version = v.getUint32(4, true);
  if (version !== VERSION) return { ok: false, why: `protocol version ${version}, only 3 is spoken` };
  const type = v.getUint32(8, true);
  if (type !== REQ_NEW_CONTROL) return { ok: false, why: `request type ${type} is not REQ_NEW_CONTROL` };
  const family = v.getUint16(12, true);
  if (family !== AF_UNIX) return { ok: false, why: `address family ${family} is not AF_UNIX` };
  const address = bytes.slice(14, 14 + SUN_PATH_BYTES);
  // A guest data socket is abstract (leading 0), as every kernel binds it; a path would be a file.
  if (address[0] !== 0) return { ok: false, why: 'the data socket address is not abstract' };
  return { ok: true, address };
}

/** The reply: a full sockaddr_un (family + 108 bytes), exactly what the kernel reads. */
export function encodeSockaddrUn(sunPath: Uint8Array): Uint8Array {
  if (sunPath.length !== SUN_PATH_BYTES) throw new RangeError(`sun_path must be ${SUN_PATH_BYTES} bytes`);
  const out = new Uint8Array(SOCKADDR_UN_BYTES);
  new DataView(out.buffer).setUint16(0, AF_UNIX, true);
  out.set(sunPath, 2);
  return out;
}

/** A request as the kernel writes it (for tests and fake guests). */
export function encodeDaemonRequest(sunPath: Uint8Array): Uint8Array {
  const out = new Uint8Array(DAEMON_REQUEST_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, VERSION, true);
  v.setUint32(8, REQ_NEW_CONTROL, true);
  out.set(encodeSockaddrUn(sunPath), 12);
  return out;
}

/**
 * A 108-byte abstract name, zero-padded: the kernel sends to the switch with the full sockaddr length,
 * and abstract names differ by length, so the switch binds exactly this many bytes.
 */
export function fullAbstractName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length + 1 > SUN_PATH_BYTES) throw new RangeError(`abstract name ${name} is too long`);
  const out = new Uint8Array(SUN_PATH_BYTES);
  out.set(bytes, 1);
  return out;
}
