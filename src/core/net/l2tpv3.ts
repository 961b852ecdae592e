// L2TPv3 over UDP as UML's vector driver speaks it (udp=1, no cookie, no counter): 8-byte header + frame.

export const L2TP_HEADER = 8;
const L2TP_DATA = 0x00030000;
/** UML parses sessions with kstrtoint: 0x80000000 and above fail and panic the kernel at boot. */
export const MAX_SESSION = 0x7fffffff;

export function encodeL2tp(session: number, frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(L2TP_HEADER + frame.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, L2TP_DATA);
  v.setUint32(4, session);
  out.set(frame, L2TP_HEADER);
  return out;
}

/** The session id and the frame, or undefined for anything that is not an L2TPv3 data packet. */
export function decodeL2tp(packet: Uint8Array): { session: number; frame: Uint8Array } | undefined {
  if (packet.length <= L2TP_HEADER) return undefined;
  const v = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  if (v.getUint32(0) !== L2TP_DATA) return undefined;
  return { session: v.getUint32(4), frame: packet.subarray(L2TP_HEADER) };
}

export interface VectorL2tpParams {
  readonly index: number;
  readonly mac: string;
  /** UDP port the kernel binds on 127.0.0.1. */
  readonly guestPort: number;
  /** UDP port of the switch's socket. */
  readonly switchPort: number;
  readonly session: number;
}

/** The kernel parameter (or mconsole `config` argument) of one NIC. Values contain no commas. */
export function vectorL2tpArg(p: VectorL2tpParams): string {
  if (!Number.isInteger(p.session) || p.session < 1 || p.session > MAX_SESSION) {
    throw new RangeError(`session ${p.session} out of range 1..${MAX_SESSION}`);
  }
  return [
    `vec${p.index}:transport=l2tpv3`,
    'udp=1',
    'src=127.0.0.1',
    'dst=127.0.0.1',
    `srcport=${p.guestPort}`,
    `dstport=${p.switchPort}`,
    `rx_session=${p.session}`,
    `tx_session=${p.session}`,
    `mac=${p.mac}`,
  ].join(',');
}
