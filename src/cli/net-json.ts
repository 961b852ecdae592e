// The JSON shape (version 1) of a network in `net ls --json` and `net inspect --json`.
import { formatImpairment, NO_IMPAIRMENT } from '../core/net/impairment.ts';
import { portDevice, portTransport } from '../host/net/net-store.ts';
import type { NetInfo } from '../machine/net-lifecycle.ts';

export function netJson(n: NetInfo): Record<string, unknown> {
  return {
    name: n.name,
    status: n.status,
    subnet: n.spec.subnet,
    udpPort: n.state?.udpPort ?? null,
    switchPid: n.status === 'running' ? (n.state?.switch.pid ?? null) : null,
    startedAt: n.state?.startedAt ?? null,
    ports: n.ports.map((p) => ({
      machine: p.machine,
      nic: p.nic,
      device: portDevice(p),
      transport: portTransport(p),
      mac: p.mac,
      ip: p.ip,
      impairment: formatImpairment(p.impairment ?? NO_IMPAIRMENT),
    })),
    leases: n.state?.leases ?? {},
    createdAt: n.spec.createdAt,
  };
}
