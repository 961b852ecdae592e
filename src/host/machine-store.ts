// The state directory as the database of long-lived machines: where each file lives, and typed reads
// and atomic writes of machine.json (the spec) and state.json (the supervisor's record).
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import type { MachineState } from '../core/machine-status.ts';
import type { NicSpec, PortForward } from '../core/net/nic-spec.ts';
import { readJsonIfExists, writeJsonAtomic } from './atomic-file.ts';
import type { HostPaths } from './paths.ts';

/** machine.json: what the machine is (version 1). Written at create, read by every verb. */
export interface MachineSpec {
  readonly version: 1;
  readonly name: string;
  readonly imagePath: string;
  readonly memoryBytes: number;
  readonly disks: readonly { readonly path: string; readonly readonly: boolean }[];
  /** Kernel given at create; otherwise resolved at each start. */
  readonly kernelPath?: string;
  /** false: created with `--no-sandbox` (absent, as in older specs: sandboxed). */
  readonly sandbox?: boolean;
  /** Host directories mounted in the guest (`--share`); absent: none. */
  readonly shares?: readonly {
    readonly hostDir: string;
    readonly guestDir: string;
    readonly readonly: boolean;
  }[];
  /** NICs (`--net`), in order: vec0, vec1, ... (docs/networking.md). Absent in older specs: no NICs. */
  readonly nets?: readonly NicSpec[];
  /** Host ports forwarded to the guest (`-p`), through the `user` NIC. */
  readonly publish?: readonly PortForward[];
  /** What a reboot loop leads to: `stop` (absent: the default) or `restart` once, then stop. */
  readonly onRebootLoop?: 'stop' | 'restart';
  readonly createdAt: string;
}

export interface MachineFiles {
  readonly dir: string;
  readonly spec: string;
  readonly state: string;
  readonly events: string;
  readonly console: string;
  readonly supervisorLog: string;
  readonly overlay: string;
  /** Runtime side: sockets and UML's umid dir, short paths. */
  readonly runDir: string;
  readonly socket: string;
  readonly notifySocket: string;
  readonly umidDir: string;
  readonly mconsole: string;
}

export function machineFiles(paths: HostPaths, name: string): MachineFiles {
  const dir = join(paths.stateDir, 'machines', name);
  const runDir = join(paths.runtimeDir, 'm', name);
  return {
    dir,
    spec: join(dir, 'machine.json'),
    state: join(dir, 'state.json'),
    events: join(dir, 'events.jsonl'),
    console: join(dir, 'console.log'),
    supervisorLog: join(dir, 'supervisor.log'),
    overlay: join(dir, 'root.cow'),
    runDir,
    socket: join(runDir, 'supervisor.sock'),
    notifySocket: join(runDir, 'notify.sock'),
    umidDir: join(runDir, name),
    mconsole: join(runDir, name, 'mconsole'),
  };
}

export function listMachineNames(paths: HostPaths): string[] {
  const dir = join(paths.stateDir, 'machines');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort();
}

/** @throws {UmlError} MACHINE_NOT_FOUND, STATE_CORRUPT */
export function readSpec(paths: HostPaths, name: string): MachineSpec {
  const files = machineFiles(paths, name);
  let spec: unknown;
  try {
    spec = readJsonIfExists(files.spec);
  } catch (e) {
    throw new UmlError('STATE_CORRUPT', `${quote(files.spec)} is not valid JSON`, {
      cause: e,
      hint: `remove the machine with \`umlkit rm -f ${name}\``,
    });
  }
  if (spec === undefined) {
    throw new UmlError('MACHINE_NOT_FOUND', `machine ${quote(name)} does not exist`, {
      hint: 'run `umlkit ls` to list machines',
    });
  }
  const s = spec as Partial<MachineSpec>;
  if (
    s.version !== 1 ||
    typeof s.imagePath !== 'string' ||
    typeof s.memoryBytes !== 'number' ||
    !Array.isArray(s.disks)
  ) {
    throw new UmlError('STATE_CORRUPT', `${quote(files.spec)} is not a version 1 machine spec`, {
      hint: `remove the machine with \`umlkit rm -f ${name}\``,
    });
  }
  return s as MachineSpec;
}

export function writeSpec(paths: HostPaths, spec: MachineSpec): void {
  const files = machineFiles(paths, spec.name);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  writeJsonAtomic(files.spec, spec);
}

/** The supervisor's record, or why it cannot be read. Never throws. */
export function readState(paths: HostPaths, name: string): { state?: MachineState; error?: string } {
  const file = machineFiles(paths, name).state;
  try {
    const raw = readJsonIfExists(file) as MachineState | undefined;
    if (raw === undefined) return {};
    if (raw.version !== 1 || typeof raw.phase !== 'string' || typeof raw.supervisor?.pid !== 'number') {
      return { error: `${file} is not a version 1 state record` };
    }
    return { state: raw };
  } catch (e) {
    return { error: `${file} cannot be read: ${(e as Error).message}` };
  }
}

export const writeState = (paths: HostPaths, name: string, state: MachineState): void =>
  writeJsonAtomic(machineFiles(paths, name).state, state);

export interface MachineEvent {
  readonly time: string;
  readonly type: string;
  readonly [key: string]: unknown;
}

export function appendEvent(
  paths: HostPaths,
  name: string,
  type: string,
  data: Record<string, unknown> = {},
): void {
  const event: MachineEvent = { time: new Date().toISOString(), type, ...data };
  appendFileSync(machineFiles(paths, name).events, `${JSON.stringify(event)}\n`, { mode: 0o600 });
}

export function removeMachineFiles(paths: HostPaths, name: string): void {
  const files = machineFiles(paths, name);
  rmSync(files.runDir, { recursive: true, force: true });
  rmSync(files.dir, { recursive: true, force: true });
}
