// MAC addresses: stable per machine and NIC (derived, never random, so ARP caches and leases survive restarts).

export type Mac = string; // "02:ab:cd:ef:01:23", lower case

/** FNV-1a 32-bit: pure, stable across Node versions; collisions only matter within one small lab. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Locally administered unicast (02:…): never collides with a vendor address. */
export function deriveMac(machine: string, nic: number): Mac {
  const h = fnv1a(`${machine}\u0000${nic}`);
  const g = fnv1a(`${nic}\u0000${machine}`);
  const bytes = [0x02, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff, g & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Canonical form of a MAC, or undefined if it is not six hex octets or is multicast (UML refuses those). */
export function normalizeMac(text: string): Mac | undefined {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(text)) return undefined;
  const mac = text.toLowerCase();
  return Number.parseInt(mac.slice(0, 2), 16) & 1 ? undefined : mac;
}

export const macToBytes = (mac: Mac): Uint8Array =>
  Uint8Array.from(mac.split(':').map((x) => Number.parseInt(x, 16)));

export function bytesToMac(b: Uint8Array, offset = 0): Mac {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((b[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}
