// Names on a network: every machine with a lease, by the address of its lowest NIC on that network.

/** `machine#nic` → address, as the switch keeps its leases, to name → address. */
export function hostsFromLeases(leases: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  const lowest: Record<string, number> = {};
  for (const [key, ip] of Object.entries(leases)) {
    const hash = key.lastIndexOf('#');
    const machine = key.slice(0, hash);
    const nic = Number(key.slice(hash + 1));
    if (lowest[machine] === undefined || nic < (lowest[machine] as number)) {
      lowest[machine] = nic;
      out[machine] = ip;
    }
  }
  return out;
}
