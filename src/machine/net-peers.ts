// When a machine boots on a network, the long-lived machines already running there learn its name: their
// /etc/hosts block for that network is rewritten through their agents. The machine's own block is
// rewritten too: it was made when its NICs were attached, and a peer attached since then, whose own refresh
// ran while this machine was still booting (and so could not reach it), is in the leases now.
import { PassThrough } from 'node:stream';
import { internalCommand } from '../core/agent-protocol.ts';
import { hostsFromLeases } from '../core/net/hosts.ts';
import type { NicSpec } from '../core/net/nic-spec.ts';
import type { HostPaths } from '../host/paths.ts';
import { execInMachine } from './lifecycle.ts';
import { hostsScript } from './net-attach.ts';
import { inspectNet } from './net-lifecycle.ts';

/** Best effort: a peer that is stopping or paused simply keeps its old list. Never throws. */
export async function refreshPeers(paths: HostPaths, self: string, nics: readonly NicSpec[]): Promise<void> {
  const nets = [...new Set(nics.flatMap((n) => (n.kind === 'switch' ? [n.net] : [])))];
  for (const net of nets) {
    try {
      const info = inspectNet(paths, net);
      const hosts = hostsFromLeases(info.state?.leases ?? {});
      const peers = new Set([self, ...info.ports.filter((p) => !p.ephemeral).map((p) => p.machine)]);
      for (const peer of peers) {
        try {
          const handle = await execInMachine(
            paths,
            peer,
            internalCommand(['/bin/sh', '-c', hostsScript(net, hosts)]),
            { stdout: new PassThrough().resume(), stderr: new PassThrough().resume() },
          );
          await handle.exit;
        } catch {}
      }
    } catch {}
  }
}
