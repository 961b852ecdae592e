// `--net` and `-p` as users type them: which network each NIC joins, and which host ports reach the guest.
import { quote, UmlError } from '../errors.ts';
import { normalizeMac } from './mac.ts';
import { parseIpv4 } from './subnet.ts';

export type NicSpec =
  /**
   * A port on one of our switches. `ip`: an address, 'auto' (allocated) or 'none' (the image configures
   * itself). `transport`: how the kernel reaches the switch; 'daemon' (6.1 kernels built with the legacy
   * daemon driver) instead of the default vector L2TPv3.
   */
  | {
      readonly kind: 'switch';
      readonly net: string;
      readonly mac?: string;
      readonly ip: string;
      readonly transport?: 'daemon';
    }
  /** The uplink to the host (passt): outbound TCP/UDP, DNS, the host's loopback, port forwarding. */
  | { readonly kind: 'user'; readonly mac?: string }
  /** A host tap device the user may open (CAP_NET_ADMIN or a persistent tap owned by the user). */
  | { readonly kind: 'tap'; readonly ifname: string; readonly mac?: string }
  /** Legacy `daemon` transport to a uml_switch control socket (6.1 kernels). */
  | { readonly kind: 'daemon'; readonly socket: string; readonly mac?: string };

export interface PortForward {
  readonly protocol: 'tcp' | 'udp';
  readonly hostIp: string;
  readonly hostPort: number;
  readonly guestPort: number;
}

export const NET_NAME = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const RESERVED = new Set(['user', 'none', 'host']);

const bad = (text: string, why: string): UmlError =>
  new UmlError('INVALID_NET_SPEC', `--net ${quote(text)}: ${why}`, {
    hint: 'use `--net NAME[,mac=02:..][,ip=10.0.0.5|auto|none][,transport=l2tpv3|daemon]`, `--net user`, or `--net tap:IFNAME`',
  });

/** @throws {UmlError} INVALID_NET_SPEC */
export function parseNicSpec(text: string): NicSpec {
  const [head = '', ...opts] = text.split(',');
  let mac: string | undefined;
  let ip = 'auto';
  let transport: 'daemon' | undefined;
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'mac') {
      const m = normalizeMac(value);
      if (!m) throw bad(text, `${quote(value)} is not a unicast MAC address (six hex octets)`);
      mac = m;
    } else if (key === 'ip') {
      if (value !== 'auto' && value !== 'none' && parseIpv4(value) === undefined)
        throw bad(text, `${quote(value)} is not an IPv4 address, \`auto\` or \`none\``);
      ip = value;
    } else if (key === 'transport') {
      if (value !== 'l2tpv3' && value !== 'daemon')
        throw bad(text, `transport ${quote(value)} is not \`l2tpv3\` or \`daemon\``);
      transport = value === 'daemon' ? value : undefined;
    } else throw bad(text, `unknown option ${quote(key)}`);
  }
  const withMac = mac ? { mac } : {};
  if (head.startsWith('tap:') || head.startsWith('daemon:')) {
    const colon = head.indexOf(':');
    const arg = head.slice(colon + 1);
    if (ip !== 'auto') throw bad(text, 'ip= applies to our own networks only');
    if (transport) throw bad(text, 'transport= applies to our own networks only');
    if (head.startsWith('tap:')) {
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(arg)) throw bad(text, `${quote(arg)} is not an interface name`);
      return { kind: 'tap', ifname: arg, ...withMac };
    }
    if (!arg.startsWith('/') || /[\s,:'"]/.test(arg))
      throw bad(text, `${quote(arg)} must be an absolute path without spaces, commas or colons`);
    return { kind: 'daemon', socket: arg, ...withMac };
  }
  if (head === 'user') {
    if (ip !== 'auto') throw bad(text, 'the uplink assigns its own address (10.0.2.15)');
    if (transport) throw bad(text, 'the uplink always uses L2TPv3');
    return { kind: 'user', ...withMac };
  }
  if (!NET_NAME.test(head) || RESERVED.has(head))
    throw bad(text, `${quote(head)} is not a network name (1-32 of a-z 0-9 . _ -)`);
  return { kind: 'switch', net: head, ip, ...withMac, ...(transport ? { transport } : {}) };
}

/** The guest's name of NIC `index`: the legacy daemon driver makes ethN, the vector driver vecN. */
export const nicDevice = (index: number, daemon: boolean): string => `${daemon ? 'eth' : 'vec'}${index}`;

/** @throws {UmlError} INVALID_PORT_SPEC */
export function parsePortForward(text: string): PortForward {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  const hostPort = Number(m?.[2]);
  const guestPort = Number(m?.[3]);
  if (!m || !(hostPort >= 1 && hostPort <= 65535) || !(guestPort >= 1 && guestPort <= 65535)) {
    throw new UmlError('INVALID_PORT_SPEC', `-p ${quote(text)} is not [HOSTIP:]HOSTPORT:GUESTPORT[/udp]`, {
      hint: 'e.g. `-p 8080:80` (127.0.0.1:8080 → guest port 80) or `-p 127.0.0.1:5353:53/udp`',
    });
  }
  const hostIp = m[1] ?? '127.0.0.1';
  if (parseIpv4(hostIp) === undefined) {
    throw new UmlError('INVALID_PORT_SPEC', `-p ${quote(text)}: ${quote(hostIp)} is not an IPv4 address`, {
      hint: 'e.g. `-p 127.0.0.1:8080:80`',
    });
  }
  return { protocol: m[4] === 'udp' ? 'udp' : 'tcp', hostIp, hostPort, guestPort };
}

/** `-p` needs the uplink: add one `--net user` NIC if none was asked for. */
export function withUplinkForPorts(nics: readonly NicSpec[], ports: readonly PortForward[]): NicSpec[] {
  if (ports.length === 0 || nics.some((n) => n.kind === 'user')) return [...nics];
  return [...nics, { kind: 'user' }];
}
