// `net connect` / `net disconnect` on a running machine: a new switch port, mconsole `config vecN:…` /
// `remove vecN` (ethN for daemon ports), the guest configured through the agent; the machine's spec keeps the change for later boots.
import { PassThrough } from 'node:stream';
import { internalCommand } from '../core/agent-protocol.ts';
import { quote, UmlError } from '../core/errors.ts';
import { deriveMac } from '../core/net/mac.ts';
import { type NicSpec, nicDevice } from '../core/net/nic-spec.ts';
import { readSpec, writeSpec } from '../host/machine-store.ts';
import { netFiles, portDevice } from '../host/net/net-store.ts';
import type { HostPaths } from '../host/paths.ts';
import { MconsoleClient } from '../mconsole/client.ts';
import { stderrCapture } from './agent-link.ts';
import { execInMachine, inspectMachine } from './lifecycle.ts';
import { checkTransports, daemonCtlPath, guestConfigScript, switchPortArg } from './net-attach.ts';
import { requestSwitch } from './net-client.ts';
import { inspectNet, listNets, startNet } from './net-lifecycle.ts';
import { refreshPeers } from './net-peers.ts';
import type { AttachedPort } from './net-protocol.ts';

type Env = Readonly<Record<string, string | undefined>>;

function runningMachine(paths: HostPaths, machine: string) {
  const info = inspectMachine(paths, machine);
  if (info.status !== 'running' || !info.state) {
    throw new UmlError(
      'WRONG_STATE',
      `machine ${quote(machine)} is ${info.status}; hot-plug needs it running`,
      {
        hint: `start it with \`umlkit start ${machine}\``,
      },
    );
  }
  return { info, supervisor: info.state.supervisor };
}

/** NIC indexes the live kernel uses: the spec's (vec0..) and ports hot-plugged since boot. */
function usedIndexes(paths: HostPaths, machine: string, specNics: number): Set<number> {
  const used = new Set<number>(Array.from({ length: specNics }, (_, i) => i));
  for (const n of listNets(paths)) for (const p of n.ports) if (p.machine === machine) used.add(p.nic);
  return used;
}

export async function connectMachine(
  paths: HostPaths,
  net: string,
  machine: string,
  options: { ip?: string; mac?: string; transport?: 'daemon'; env: Env },
): Promise<{ device: string; ip: string | null }> {
  const { info, supervisor } = runningMachine(paths, machine);
  const spec = readSpec(paths, machine);
  const nic: NicSpec = {
    kind: 'switch',
    net,
    ip: options.ip ?? 'auto',
    ...(options.mac ? { mac: options.mac } : {}),
    ...(options.transport ? { transport: options.transport } : {}),
  };
  if (info.state?.kernelPath) checkTransports([nic], info.state.kernelPath);
  const netInfo = inspectNet(paths, net);
  if (netInfo.ports.some((p) => p.machine === machine)) {
    throw new UmlError(
      'NET_IN_USE',
      `machine ${quote(machine)} is already connected to network ${quote(net)}`,
      {
        hint: `\`umlkit net disconnect ${net} ${machine}\` first`,
      },
    );
  }
  if (netInfo.status !== 'running') await startNet(paths, net, options.env);
  const used = usedIndexes(paths, machine, spec.nets?.length ?? 0);
  let index = 0;
  while (used.has(index)) index++;
  const mac = options.mac ?? deriveMac(machine, index);
  const daemon = options.transport === 'daemon';
  // In the machine's run dir, which its sandbox shows: the kernel reaches it with no new bind.
  const ctl = daemon ? daemonCtlPath(info.files.runDir, index) : undefined;
  const r = await requestSwitch(netFiles(paths, net).socket, net, {
    op: 'attach',
    machine,
    nic: index,
    mac,
    ip: options.ip ?? 'auto',
    // The supervisor owns the port: it goes when the machine's supervisor does.
    owner: supervisor,
    ephemeral: false,
    ...(ctl ? { daemonCtl: ctl } : {}),
  });
  const port = r.port as AttachedPort;
  const mconsole = new MconsoleClient(info.files.mconsole, { timeoutMs: 5000 });
  try {
    await mconsole.run(`config ${switchPortArg(index, mac, port, ctl)}`);
  } catch (e) {
    await requestSwitch(netFiles(paths, net).socket, net, { op: 'detach', machine, nic: index }).catch(
      () => {},
    );
    throw e;
  } finally {
    mconsole.close();
  }
  const device = nicDevice(index, daemon);
  if (port.ip) {
    const failed = await execScript(
      paths,
      machine,
      guestConfigScript([{ device, ip: port.ip, prefix: port.prefix, hosts: port.hosts, net }]),
    );
    if (failed)
      throw new UmlError('NET_DOWN', `configuring ${device} in ${quote(machine)} failed: ${failed}`, {
        hint: `check with \`umlkit exec ${machine} -- ip addr\``,
      });
  }
  writeSpec(paths, { ...spec, nets: [...(spec.nets ?? []), nic] });
  await refreshPeers(paths, machine, [nic]);
  return { device, ip: port.ip };
}

export async function disconnectMachine(
  paths: HostPaths,
  net: string,
  machine: string,
): Promise<{ device: string }> {
  const spec = readSpec(paths, machine);
  const nets = (spec.nets ?? []).filter((n) => !(n.kind === 'switch' && n.net === net));
  const netInfo = inspectNet(paths, net);
  const port = netInfo.ports.find((p) => p.machine === machine);
  if (!port && nets.length === (spec.nets ?? []).length) {
    throw new UmlError(
      'NET_NOT_FOUND',
      `machine ${quote(machine)} is not connected to network ${quote(net)}`,
      {
        hint: `see \`umlkit net inspect ${net}\``,
      },
    );
  }
  const device = port ? portDevice(port) : nicDevice(0, false);
  if (port) {
    const info = inspectMachine(paths, machine);
    if (info.status === 'running') {
      // UML refuses to remove an open device (EBUSY): take it down in the guest first.
      await execScript(paths, machine, `ip link set ${device} down`);
      const mconsole = new MconsoleClient(info.files.mconsole, { timeoutMs: 5000 });
      try {
        await mconsole.run(`remove ${device}`);
      } finally {
        mconsole.close();
      }
    }
    if (netInfo.status === 'running')
      await requestSwitch(netFiles(paths, net).socket, net, { op: 'detach', machine, nic: port.nic });
  }
  writeSpec(paths, { ...spec, nets });
  return { device };
}

async function execScript(paths: HostPaths, machine: string, script: string): Promise<string | undefined> {
  const stderr = stderrCapture();
  const handle = await execInMachine(paths, machine, internalCommand(['/bin/sh', '-c', script]), {
    stdout: new PassThrough().resume(),
    stderr: stderr.stream,
  });
  return stderr.failure((await handle.exit).code);
}
