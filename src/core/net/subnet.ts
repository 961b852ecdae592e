// IPv4 subnets of virtual networks and the automatic static addresses handed to machines on them.
import { quote, UmlError } from '../errors.ts';

export interface Subnet {
  readonly network: number; // host order, u32
  readonly prefix: number;
}

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

export const formatIpv4 = (ip: number): string =>
  [(ip >>> 24) & 255, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');

/** @throws {UmlError} INVALID_SUBNET */
export function parseSubnet(text: string): Subnet {
  const [addr, bits] = text.split('/');
  const ip = addr === undefined ? undefined : parseIpv4(addr);
  const prefix = bits === undefined || !/^\d+$/.test(bits) ? Number.NaN : Number(bits);
  // /30 is the smallest with room for the reserved gateway and one machine; below /8 is a typo.
  if (ip === undefined || !(prefix >= 8 && prefix <= 30)) {
    throw new UmlError(
      'INVALID_SUBNET',
      `subnet ${quote(text)} is not an IPv4 network with a /8../30 prefix`,
      {
        hint: 'e.g. `--subnet 10.0.0.0/24`',
      },
    );
  }
  const mask = maskOf(prefix);
  if ((ip & ~mask) >>> 0 !== 0) {
    throw new UmlError('INVALID_SUBNET', `subnet ${quote(text)} has host bits set`, {
      hint: `did you mean \`${formatIpv4((ip & mask) >>> 0)}/${prefix}\`?`,
    });
  }
  return { network: ip, prefix };
}

const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export const formatSubnet = (s: Subnet): string => `${formatIpv4(s.network)}/${s.prefix}`;

export const contains = (s: Subnet, ip: number): boolean => (ip & maskOf(s.prefix)) >>> 0 === s.network;

/** .1 is kept for the network itself (a future gateway); the broadcast address is never handed out. */
export const gatewayOf = (s: Subnet): number => (s.network + 1) >>> 0;

export function isAssignable(s: Subnet, ip: number): boolean {
  const broadcast = (s.network | ~maskOf(s.prefix)) >>> 0;
  return contains(s, ip) && ip !== s.network && ip !== broadcast && ip !== gatewayOf(s);
}

/** The lowest free address (.2 upwards), or undefined when the subnet is full. */
export function allocateAddress(s: Subnet, taken: ReadonlySet<number>): number | undefined {
  const size = 2 ** (32 - s.prefix);
  for (let i = 2; i < size - 1; i++) {
    const ip = (s.network + i) >>> 0;
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}
