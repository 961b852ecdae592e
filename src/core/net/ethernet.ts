// Ethernet frame headers as the switch needs them: destination, source, type (raw frames, no FCS).
import { bytesToMac, type Mac } from './mac.ts';

export const ETH_HEADER = 14;
/** MTU 1500 + header; UML's receive buffer is mtu + 26, VLAN tags fit. */
export const MAX_FRAME = 1500 + 26;

export interface EthernetHeader {
  readonly dst: Mac;
  readonly src: Mac;
  readonly type: number;
  /** Group bit of the destination: broadcast and multicast are flooded. */
  readonly flood: boolean;
}

export function parseEthernet(frame: Uint8Array): EthernetHeader | undefined {
  if (frame.length < ETH_HEADER || frame.length > MAX_FRAME) return undefined;
  return {
    dst: bytesToMac(frame, 0),
    src: bytesToMac(frame, 6),
    type: ((frame[12] ?? 0) << 8) | (frame[13] ?? 0),
    flood: ((frame[0] ?? 0) & 1) === 1,
  };
}

/** A source with the group bit set is forged or broken: never learn it. */
export const isUnicastMac = (mac: Mac): boolean => (Number.parseInt(mac.slice(0, 2), 16) & 1) === 0;
