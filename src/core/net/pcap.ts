// pcap (libpcap classic format, microsecond, LINKTYPE_ETHERNET) encoding for `net capture`.

export const PCAP_SNAPLEN = 65535;

export function pcapGlobalHeader(): Uint8Array {
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true);
  v.setUint32(12, 0, true);
  v.setUint32(16, PCAP_SNAPLEN, true);
  v.setUint32(20, 1, true); // LINKTYPE_ETHERNET
  return out;
}

export function pcapRecord(timeMs: number, frame: Uint8Array): Uint8Array {
  const captured = Math.min(frame.length, PCAP_SNAPLEN);
  const out = new Uint8Array(16 + captured);
  const v = new DataView(out.buffer);
  const us = Math.round(timeMs * 1000);
  v.setUint32(0, Math.floor(us / 1e6), true);
  v.setUint32(4, us % 1e6, true);
  v.setUint32(8, captured, true);
  v.setUint32(12, frame.length, true);
  out.set(frame.subarray(0, captured), 16);
  return out;
}
