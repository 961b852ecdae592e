// A machine's NICs at boot: each `--net` becomes a port on a switch (or the passt uplink, a tap, a legacy
// uml_switch), a kernel parameter, and after the agent's hello the guest commands that configure it.
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { internalCommand } from '../core/agent-protocol.ts';
import { quote, UmlError } from '../core/errors.ts';
import { vectorL2tpArg } from '../core/net/l2tpv3.ts';
import { deriveMac } from '../core/net/mac.ts';
import { type NicSpec, nicDevice, type PortForward } from '../core/net/nic-spec.ts';
import { kernelFeatures } from '../host/kernel-features.ts';
import { freeUdpPort } from '../host/net/free-port.ts';
import { netFiles } from '../host/net/net-store.ts';
import { startUplink, UPLINK, type Uplink } from '../host/net/passt-uplink.ts';
import type { HostPaths } from '../host/paths.ts';
import { currentProcessIdentity, isAlive } from '../host/process-identity.ts';
import { pathAddress } from '../host/unix-dgram.ts';
import { type AgentLink, stderrCapture } from './agent-link.ts';
import { requestSwitch } from './net-client.ts';
import { inspectNet, startNet } from './net-lifecycle.ts';
import type { AttachedPort } from './net-protocol.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface AttachOptions {
  readonly ephemeral: boolean;
  readonly forwards: readonly PortForward[];
  readonly env: Env;
  readonly logDir: string;
  /** The machine's run dir (shown to its sandbox): daemon ports' control sockets are made there. */
  readonly runDir: string;
  /** The kernel that will boot: NICs it has no driver for are refused before anything starts. */
  readonly kernelPath: string;
}

/** What the guest should do with one NIC once it is up; undefined fields are left to the image. */
export interface GuestNicConfig {
  readonly device: string;
  readonly ip?: string;
  readonly prefix?: number;
  readonly gateway?: string;
  readonly dns?: string;
  readonly hosts?: Readonly<Record<string, string>>;
  /** The network the hosts belong to: each network's lines in /etc/hosts are replaced on their own. */
  readonly net?: string;
}

export interface AttachedNics {
  readonly kernelArgs: string[];
  readonly guest: GuestNicConfig[];
  /** Detach from the switches and stop uplinks. Idempotent. */
  release(): Promise<void>;
}

/** One NIC: its kernel parameter and guest config, attached now. */
export async function attachNic(
  paths: HostPaths,
  machine: string,
  index: number,
  nic: NicSpec,
  options: AttachOptions,
): Promise<{ arg: string; guest?: GuestNicConfig; release: () => Promise<void> }> {
  const mac = nic.mac ?? deriveMac(machine, index);
  const daemon = nic.kind === 'switch' && nic.transport === 'daemon';
  const device = nicDevice(index, daemon);
  if (nic.kind === 'tap') {
    return { arg: `vec${index}:transport=tap,ifname=${nic.ifname},mac=${mac}`, release: async () => {} };
  }
  if (nic.kind === 'daemon') {
    return { arg: `eth${index}=daemon,${mac},unix,${nic.socket}`, release: async () => {} };
  }
  if (nic.kind === 'user') {
    const uplink: Uplink = await startUplink({
      forwards: options.forwards,
      guestPort: await freeUdpPort(),
      logPath: join(options.logDir, `passt-${machine}-${index}.log`),
    });
    return {
      arg: vectorL2tpArg({
        index,
        mac,
        guestPort: uplink.guestPort,
        switchPort: uplink.switchPort,
        session: uplink.session,
      }),
      guest: { device, ip: UPLINK.guestIp, prefix: UPLINK.prefix, gateway: UPLINK.gateway, dns: UPLINK.dns },
      release: async () => uplink.stop(),
    };
  }
  // Our switch: started (or recovered) on demand.
  if (inspectNet(paths, nic.net).status !== 'running') await startNet(paths, nic.net, options.env);
  const files = netFiles(paths, nic.net);
  const ctl = daemon ? daemonCtlPath(options.runDir, index) : undefined;
  const r = await requestSwitch(files.socket, nic.net, {
    op: 'attach',
    machine,
    nic: index,
    mac,
    ip: nic.ip,
    owner: currentProcessIdentity(),
    ephemeral: options.ephemeral,
    ...(ctl ? { daemonCtl: ctl } : {}),
  });
  const port = r.port as AttachedPort;
  let released = false;
  return {
    arg: switchPortArg(index, mac, port, ctl),
    ...(port.ip
      ? { guest: { device, ip: port.ip, prefix: port.prefix, hosts: port.hosts, net: nic.net } }
      : {}),
    release: async () => {
      if (released) return;
      released = true;
      await requestSwitch(files.socket, nic.net, { op: 'detach', machine, nic: index }).catch(() => {});
    },
  };
}

export async function attachNics(
  paths: HostPaths,
  machine: string,
  nics: readonly NicSpec[],
  options: AttachOptions,
): Promise<AttachedNics> {
  checkTransports(nics, options.kernelPath);
  const releases: (() => Promise<void>)[] = [];
  const kernelArgs: string[] = [];
  const guest: GuestNicConfig[] = [];
  const release = async (): Promise<void> => {
    for (const r of releases.splice(0)) await r();
  };
  try {
    for (const [i, nic] of nics.entries()) {
      const a = await attachNic(paths, machine, i, nic, options);
      releases.push(a.release);
      kernelArgs.push(a.arg);
      if (a.guest) guest.push(a.guest);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { kernelArgs, guest, release };
}

/** The kernel parameter (or mconsole `config` argument) of a switch port; `ctl`: a daemon port's socket. */
export function switchPortArg(index: number, mac: string, port: AttachedPort, ctl?: string): string {
  if (ctl !== undefined) return `${nicDevice(index, true)}=daemon,${mac},unix,${ctl}`;
  return vectorL2tpArg({
    index,
    mac,
    guestPort: port.guestPort,
    switchPort: port.switchPort,
    session: port.session,
  });
}

/**
 * The daemon control socket of NIC `index`, in the machine's run dir.
 * @throws {UmlError} SOCKET_PATH_TOO_LONG when the path would not fit a sockaddr_un (the kernel copies it).
 */
export function daemonCtlPath(runDir: string, index: number): string {
  const path = join(runDir, `net${index}.ctl`);
  pathAddress(path);
  return path;
}

/** @throws {UmlError} NET_TRANSPORT_UNSUPPORTED when a NIC needs the daemon driver the kernel lacks. */
export function checkTransports(nics: readonly NicSpec[], kernelPath: string): void {
  const needs = nics.find((n) => n.kind === 'daemon' || (n.kind === 'switch' && n.transport === 'daemon'));
  if (!needs || kernelFeatures(kernelPath).daemonTransport) return;
  const what =
    needs.kind === 'daemon'
      ? `daemon:${needs.socket}`
      : `${needs.kind === 'switch' ? needs.net : ''},transport=daemon`;
  throw new UmlError(
    'NET_TRANSPORT_UNSUPPORTED',
    `--net ${quote(what)} needs the legacy daemon transport, which kernel ${quote(kernelPath)} lacks (CONFIG_UML_NET_DAEMON)`,
    {
      hint: "boot Debian's kernel (--kernel /usr/bin/linux.uml), or drop transport=daemon: our switches speak L2TPv3 to every kernel",
    },
  );
}

/** The shell script that brings NICs up with their addresses; /etc/hosts lines we add end in `# umlkit:NET`. */
export function guestConfigScript(configs: readonly GuestNicConfig[]): string {
  const lines: string[] = ['set -e'];
  for (const c of configs) {
    lines.push(`ip link set ${c.device} up`);
    if (c.ip) lines.push(`ip addr add ${c.ip}/${c.prefix ?? 24} dev ${c.device} 2>/dev/null || true`);
    if (c.gateway) {
      lines.push(`ip route replace default via ${c.gateway} dev ${c.device}`);
      // passt learns the guest's MAC from its first frame and cannot forward -p ports before: send one.
      lines.push(`(ping -c 1 -W 1 ${c.gateway} >/dev/null 2>&1 &)`);
    }
    if (c.dns) lines.push(`echo 'nameserver ${c.dns}' > /etc/resolv.conf`);
    if (c.net && c.hosts) lines.push(hostsScript(c.net, c.hosts));
  }
  return lines.join('\n');
}

/**
 * Replaces the network's own lines of /etc/hosts (ending in `# umlkit:NET`); other lines stay. Several
 * of these may run in one guest at once (its own configuration while peers that boot refresh it): a
 * lock directory serialises them, so none reads the file while another rewrites it. The wait is bounded
 * (2 s): a lock left by a killed writer delays, but never blocks, the next one.
 */
export function hostsScript(
  net: string,
  hosts: Readonly<Record<string, string>>,
  file = '/etc/hosts',
): string {
  const tag = `# umlkit:${net}`;
  const lock = `${file}.umlkit-lock`;
  const tmp = `${file}.umlkit.$$`;
  return [
    `i=0; while ! mkdir ${lock} 2>/dev/null && [ $i -lt 40 ]; do i=$((i+1)); sleep 0.05; done`,
    `{ grep -v ' ${tag}$' ${file} 2>/dev/null || true; cat <<'EOF'`,
    ...Object.entries(hosts).map(([name, ip]) => `${ip} ${name} ${tag}`),
    'EOF',
    `} > ${tmp} && cat ${tmp} > ${file}; rm -f ${tmp}`,
    `rmdir ${lock} 2>/dev/null || true`,
  ].join('\n');
}

/** Run the configuration through the agent; resolves with its stderr when it failed. */
export async function configureGuest(
  link: AgentLink,
  configs: readonly GuestNicConfig[],
): Promise<string | undefined> {
  if (configs.length === 0) return undefined;
  const stderr = stderrCapture();
  const session = link.exec(internalCommand(['/bin/sh', '-c', guestConfigScript(configs)]), {
    stdout: new PassThrough().resume(),
    stderr: stderr.stream,
  });
  return stderr.failure((await session.exit).code);
}

/**
 * Restarts crashed switches of the machine's networks (every 2 s): the recovered switch rebinds the same
 * UDP port and keeps this machine's port, so traffic flows again without touching the guest.
 */
export function watchSwitches(paths: HostPaths, nics: readonly NicSpec[], env: Env): () => void {
  const nets = [...new Set(nics.flatMap((n) => (n.kind === 'switch' ? [n.net] : [])))];
  if (nets.length === 0) return () => {};
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const net of nets) {
        try {
          const info = inspectNet(paths, net);
          if (info.status === 'crashed' && !(info.state && isAlive(info.state.switch)))
            await startNet(paths, net, env);
        } catch {}
      }
    })().finally(() => {
      busy = false;
    });
  }, 2000);
  timer.unref();
  return () => clearInterval(timer);
}

export const nicError = (what: string, detail: string): UmlError =>
  new UmlError('NET_DOWN', `${what}: ${detail}`, { hint: 'see `umlkit net ls`' });
