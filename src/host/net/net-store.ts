// The state directory as the database of virtual networks: where each file lives, typed reads, atomic writes.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { quote, UmlError } from '../../core/errors.ts';
import type { Impairment } from '../../core/net/impairment.ts';
import { nicDevice } from '../../core/net/nic-spec.ts';
import { readJsonIfExists, writeJsonAtomic } from '../atomic-file.ts';
import type { HostPaths } from '../paths.ts';
import type { ProcessIdentity } from '../process-identity.ts';

/** net.json (version 1): what the network is. */
export interface NetSpec {
  readonly version: 1;
  readonly name: string;
  readonly subnet: string;
  readonly createdAt: string;
}

/** One switch port: a NIC of a machine, with the UDP endpoints and session its kernel was booted with. */
export interface PortRecord {
  readonly id: number;
  readonly session: number;
  readonly machine: string;
  readonly nic: number;
  readonly mac: string;
  readonly guestPort: number;
  readonly ip: string | null;
  /** The process whose kernel uses this port (run CLI or supervisor); the port goes when it dies. */
  readonly owner: ProcessIdentity;
  readonly ephemeral: boolean;
  readonly impairment?: Impairment;
  /**
   * A daemon port (guestPort 0): its control socket, in the machine's run dir, and the data socket name
   * its kernel last registered (hex of 108 bytes), so a restarted switch still knows where to send.
   */
  readonly daemon?: { readonly ctl: string; readonly address?: string };
}

/** How a stored port's kernel reaches the switch. */
export const portTransport = (p: PortRecord): 'daemon' | 'l2tpv3' => (p.daemon ? 'daemon' : 'l2tpv3');

/** The guest's name of a stored port's NIC (ethN for daemon ports, vecN otherwise). */
export const portDevice = (p: PortRecord): string => nicDevice(p.nic, p.daemon !== undefined);

/** state.json: written by the switch process; survives it, so a restarted switch rebinds the same ports. */
export interface NetState {
  readonly version: 1;
  readonly switch: ProcessIdentity;
  readonly udpPort: number;
  /** The abstract name (hex of 108 bytes) of the data socket for daemon ports; kept across restarts. */
  readonly daemonName?: string;
  readonly startedAt: string;
  readonly ports: readonly PortRecord[];
  /** Stable addresses: `machine#nic` → IPv4. Kept across restarts of machines and of the switch. */
  readonly leases: Readonly<Record<string, string>>;
  /** Set by a clean stop: a switch that is gone without it crashed. */
  readonly stoppedAt?: string;
}

export interface NetFiles {
  readonly dir: string;
  readonly spec: string;
  readonly state: string;
  readonly log: string;
  readonly runDir: string;
  readonly socket: string;
}

export function netFiles(paths: HostPaths, name: string): NetFiles {
  const dir = join(paths.stateDir, 'nets', name);
  const runDir = join(paths.runtimeDir, 'n', name);
  return {
    dir,
    spec: join(dir, 'net.json'),
    state: join(dir, 'state.json'),
    log: join(dir, 'switch.log'),
    runDir,
    socket: join(runDir, 'switch.sock'),
  };
}

export function listNetNames(paths: HostPaths): string[] {
  const dir = join(paths.stateDir, 'nets');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => !n.startsWith('.'))
        .sort()
    : [];
}

/** @throws {UmlError} NET_NOT_FOUND, STATE_CORRUPT */
export function readNetSpec(paths: HostPaths, name: string): NetSpec {
  const file = netFiles(paths, name).spec;
  let raw: unknown;
  try {
    raw = readJsonIfExists(file);
  } catch (e) {
    throw new UmlError('STATE_CORRUPT', `${quote(file)} is not valid JSON`, {
      cause: e,
      hint: `remove the network with \`umlkit net rm -f ${name}\``,
    });
  }
  if (raw === undefined) {
    throw new UmlError('NET_NOT_FOUND', `network ${quote(name)} does not exist`, {
      hint: `create it with \`umlkit net create ${name}\`, or list networks with \`umlkit net ls\``,
    });
  }
  const s = raw as Partial<NetSpec>;
  if (s.version !== 1 || typeof s.subnet !== 'string') {
    throw new UmlError('STATE_CORRUPT', `${quote(file)} is not a version 1 network spec`, {
      hint: `remove the network with \`umlkit net rm -f ${name}\``,
    });
  }
  return s as NetSpec;
}

export const writeNetSpec = (paths: HostPaths, spec: NetSpec): void =>
  writeJsonAtomic(netFiles(paths, spec.name).spec, spec);

/** The switch's last record, or undefined (never started, or unreadable: the switch rewrites it). */
export function readNetState(paths: HostPaths, name: string): NetState | undefined {
  try {
    const raw = readJsonIfExists(netFiles(paths, name).state) as NetState | undefined;
    return raw?.version === 1 && Array.isArray(raw.ports) ? raw : undefined;
  } catch {
    return undefined;
  }
}

export const writeNetState = (paths: HostPaths, name: string, state: NetState): void =>
  writeJsonAtomic(netFiles(paths, name).state, state);

export function removeNetFiles(paths: HostPaths, name: string): void {
  const f = netFiles(paths, name);
  rmSync(f.runDir, { recursive: true, force: true });
  rmSync(f.dir, { recursive: true, force: true });
}
