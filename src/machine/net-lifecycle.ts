// Virtual networks as library functions: create, start (and recover), stop, rm, inspect, ls.
// Each network's switch is its own detached process, like a machine's supervisor.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quote, UmlError } from '../core/errors.ts';
import { UNIX_PATH_MAX } from '../core/machine-name.ts';
import { NET_NAME, type NicSpec } from '../core/net/nic-spec.ts';
import { formatSubnet, parseSubnet } from '../core/net/subnet.ts';
import {
  listNetNames,
  type NetSpec,
  type NetState,
  netFiles,
  readNetSpec,
  readNetState,
  removeNetFiles,
  writeNetSpec,
} from '../host/net/net-store.ts';
import type { HostPaths } from '../host/paths.ts';
import { isAlive } from '../host/process-identity.ts';
import { requestSwitch } from './net-client.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'umlkit.js');
type Env = Readonly<Record<string, string | undefined>>;

export function validateNetName(name: string, paths: HostPaths): void {
  if (!NET_NAME.test(name) || ['user', 'none', 'host'].includes(name)) {
    throw new UmlError('INVALID_NAME', `network name ${quote(name)} is not valid`, {
      hint: 'use 1-32 characters: a-z 0-9 . _ -, starting with a letter or digit (not user/none/host)',
    });
  }
  const sock = netFiles(paths, name).socket;
  if (sock.length > UNIX_PATH_MAX) {
    throw new UmlError(
      'SOCKET_PATH_TOO_LONG',
      `socket path ${quote(sock)} is ${sock.length} bytes; the limit is ${UNIX_PATH_MAX}`,
      {
        hint: 'use a shorter network name, or set UMLKIT_RUNTIME_DIR to a shorter directory',
      },
    );
  }
}

/** 10.0.0.0/24, else the next 10.0.N.0/24 no other network uses (10.0.2.0/24 is the uplink's). */
function defaultSubnet(paths: HostPaths): string {
  const used = new Set(
    listNetNames(paths).flatMap((n) => {
      try {
        return [readNetSpec(paths, n).subnet];
      } catch {
        return [];
      }
    }),
  );
  for (let i = 0; i < 256; i++) {
    const s = `10.0.${i}.0/24`;
    if (i !== 2 && !used.has(s)) return s;
  }
  return '10.1.0.0/24';
}

export async function createNet(
  paths: HostPaths,
  name: string,
  options: { subnet?: string; env: Env },
): Promise<NetInfo> {
  validateNetName(name, paths);
  const subnet = formatSubnet(parseSubnet(options.subnet ?? defaultSubnet(paths)));
  const files = netFiles(paths, name);
  if (existsSync(files.spec)) {
    throw new UmlError('NET_EXISTS', `network ${quote(name)} already exists`, {
      hint: `use it with \`--net ${name}\`, or remove it with \`umlkit net rm ${name}\``,
    });
  }
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const spec: NetSpec = { version: 1, name, subnet, createdAt: new Date().toISOString() };
  writeNetSpec(paths, spec);
  try {
    return await startNet(paths, name, options.env);
  } catch (e) {
    removeNetFiles(paths, name);
    throw e;
  }
}

export type NetStatus = 'running' | 'stopped' | 'crashed';

export interface NetInfo {
  readonly name: string;
  readonly status: NetStatus;
  readonly spec: NetSpec;
  readonly state?: NetState;
  /** Ports whose kernels still run. */
  readonly ports: NetState['ports'];
}

export function inspectNet(paths: HostPaths, name: string): NetInfo {
  const spec = readNetSpec(paths, name);
  const state = readNetState(paths, name);
  const alive = state ? isAlive(state.switch) : false;
  const status: NetStatus = alive ? 'running' : state && !state.stoppedAt ? 'crashed' : 'stopped';
  return {
    name,
    status,
    spec,
    ...(state ? { state } : {}),
    ports: (state?.ports ?? []).filter((p) => isAlive(p.owner)),
  };
}

export const listNets = (paths: HostPaths): NetInfo[] =>
  listNetNames(paths).flatMap((n) => {
    try {
      return [inspectNet(paths, n)];
    } catch {
      return [];
    }
  });

/**
 * Start the switch (or restart a crashed one: it rebinds the same UDP port and keeps the ports of
 * kernels that still run) and wait until its control socket answers. Running already: a no-op.
 */
export async function startNet(paths: HostPaths, name: string, env: Env): Promise<NetInfo> {
  const before = inspectNet(paths, name);
  if (before.status === 'running') return before;
  const files = netFiles(paths, name);
  const log = openSync(files.log, 'a', 0o600);
  const child = spawn(process.execPath, [BIN, 'net', 'run', name], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
  });
  closeSync(log);
  child.unref();
  const deadline = Date.now() + 10_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 25));
    const st = readNetState(paths, name);
    if (st && st.switch.pid === child.pid && !st.stoppedAt && existsSync(files.socket)) {
      try {
        await requestSwitch(files.socket, name, { op: 'status' }, 2000);
        return inspectNet(paths, name);
      } catch {}
    }
    // Another process restarted it at the same moment and won the UDP port: theirs is as good.
    const now = inspectNet(paths, name);
    if (now.status === 'running' && now.state?.switch.pid !== child.pid && existsSync(files.socket))
      return now;
    if (Date.now() > deadline || (child.exitCode !== null && now.status !== 'running')) {
      throw new UmlError('NET_DOWN', `the switch of network ${quote(name)} did not start`, {
        hint: `see ${files.log}`,
      });
    }
  }
}

/** Stop the switch; machines keep their NICs, which pass no traffic until `net start`. */
export async function stopNet(paths: HostPaths, name: string): Promise<NetInfo> {
  const info = inspectNet(paths, name);
  if (info.status !== 'running' || !info.state) return info;
  try {
    await requestSwitch(netFiles(paths, name).socket, name, { op: 'stop' });
  } catch {
    process.kill(info.state.switch.pid, 'SIGKILL');
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && isAlive(info.state.switch)) await new Promise((r) => setTimeout(r, 25));
  if (isAlive(info.state.switch)) process.kill(info.state.switch.pid, 'SIGKILL');
  return inspectNet(paths, name);
}

/** @throws {UmlError} NET_IN_USE while machines are attached, unless forced. */
export async function removeNet(paths: HostPaths, name: string, force: boolean): Promise<void> {
  const info = inspectNet(paths, name);
  if (info.ports.length > 0 && !force) {
    const machines = [...new Set(info.ports.map((p) => p.machine))].join(', ');
    throw new UmlError('NET_IN_USE', `network ${quote(name)} is used by running machines: ${machines}`, {
      hint: `stop them or \`umlkit net disconnect ${name} MACHINE\` first, or use \`umlkit net rm -f ${name}\``,
    });
  }
  await stopNet(paths, name);
  removeNetFiles(paths, name);
  // <runtime>/n/ goes with the last network, as a run's dir does.
  try {
    rmdirSync(dirname(netFiles(paths, name).runDir));
  } catch {}
}

/** Leases for a new machine's NICs, so machines created together find each other's names at first boot. */
export async function reserveLeases(
  paths: HostPaths,
  machine: string,
  nics: readonly NicSpec[],
  env: Env,
): Promise<void> {
  for (const [nic, n] of nics.entries()) {
    if (n.kind !== 'switch' || n.ip === 'none') continue;
    if (inspectNet(paths, n.net).status !== 'running') await startNet(paths, n.net, env);
    await requestSwitch(netFiles(paths, n.net).socket, n.net, { op: 'lease', machine, nic, ip: n.ip });
  }
}

/** A removed machine gives its addresses back (networks whose switch is down keep them: harmless). */
export async function forgetLeases(paths: HostPaths, machine: string): Promise<void> {
  for (const n of listNets(paths)) {
    if (
      n.status !== 'running' ||
      !Object.keys(n.state?.leases ?? {}).some((k) => k.startsWith(`${machine}#`))
    )
      continue;
    await requestSwitch(netFiles(paths, n.name).socket, n.name, { op: 'forget', machine }).catch(() => {});
  }
}
