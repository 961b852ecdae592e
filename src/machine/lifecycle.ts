// Long-lived machines as library functions: create, start, stop, kill, rm, inspect, ls, exec.
// The state directory is the database; the truth about a machine is derived, never trusted from files.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecRequest } from '../core/agent-protocol.ts';
import { checkKernelPath, type DiskSpec } from '../core/disk-spec.ts';
import { quote, UmlError } from '../core/errors.ts';
import type { ShareSpec } from '../core/kernel-argv.ts';
import { validateMachineName } from '../core/machine-name.ts';
import { type DerivedStatus, deriveStatus, type MachineState } from '../core/machine-status.ts';
import type { NicSpec, PortForward } from '../core/net/nic-spec.ts';
import { refuseSharesWithoutSandbox } from '../core/share-spec.ts';
import { createOverlay } from '../host/cow/create.ts';
import { checkDiskFile } from '../host/file-checks.ts';
import { checkDistinctFiles, checkMemory, checkShares } from '../host/launch-checks.ts';
import {
  listMachineNames,
  type MachineSpec,
  machineFiles,
  readSpec,
  readState,
  removeMachineFiles,
  writeSpec,
} from '../host/machine-store.ts';
import type { HostPaths } from '../host/paths.ts';
import { isAlive } from '../host/process-identity.ts';
import { readLogTail } from '../host/rotating-log.ts';
import { forgetLeases } from './net-lifecycle.ts';
import { spawnSupervisor } from './spawn-supervisor.ts';
import { type ExecHandle, type ExecIo, execViaSupervisor, requestSupervisor } from './supervisor-client.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface CreateRequest {
  readonly name: string;
  readonly imagePath: string;
  readonly memoryBytes: number;
  readonly disks: readonly DiskSpec[];
  readonly kernelPath?: string;
  readonly nets?: readonly NicSpec[];
  readonly publish?: readonly PortForward[];
  /** false only for an explicit `--no-sandbox`. */
  readonly sandbox?: boolean;
  readonly shares?: readonly ShareSpec[];
  readonly onRebootLoop?: 'stop' | 'restart';
}

/** @throws {UmlError} INVALID_NAME, SOCKET_PATH_TOO_LONG, MACHINE_EXISTS, IMAGE_*, DISK_*, COW_* */
export function createMachine(paths: HostPaths, req: CreateRequest): MachineSpec {
  validateMachineName(req.name, paths.runtimeDir);
  checkKernelPath(req.imagePath, 'image');
  for (const d of req.disks) checkKernelPath(d.path, 'disk');
  const files = machineFiles(paths, req.name);
  if (existsSync(files.spec)) {
    throw new UmlError('MACHINE_EXISTS', `machine ${quote(req.name)} already exists`, {
      hint: `start it with \`umlkit start ${req.name}\`, or remove it with \`umlkit rm ${req.name}\``,
    });
  }
  checkDiskFile(req.imagePath, false, 'image');
  for (const d of req.disks) checkDiskFile(d.path, !d.readonly, 'disk');
  checkDistinctFiles([req.imagePath, ...req.disks.map((d) => d.path)]);
  checkMemory(req.memoryBytes);
  refuseSharesWithoutSandbox(req.shares ?? [], req.sandbox !== false);
  const shares = checkShares(req.shares ?? []);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  try {
    createOverlay(files.overlay, req.imagePath, { stateDir: paths.stateDir });
    const spec: MachineSpec = {
      version: 1,
      name: req.name,
      imagePath: req.imagePath,
      memoryBytes: req.memoryBytes,
      disks: req.disks,
      ...(req.kernelPath ? { kernelPath: req.kernelPath } : {}),
      ...(req.nets?.length ? { nets: req.nets } : {}),
      ...(req.publish?.length ? { publish: req.publish } : {}),
      ...(req.sandbox === false ? { sandbox: false } : {}),
      ...(shares.length > 0 ? { shares } : {}),
      ...(req.onRebootLoop === 'restart' ? { onRebootLoop: 'restart' as const } : {}),
      createdAt: new Date().toISOString(),
    };
    writeSpec(paths, spec);
    return spec;
  } catch (e) {
    removeMachineFiles(paths, req.name);
    throw e;
  }
}

export interface MachineInfo extends DerivedStatus {
  readonly name: string;
  readonly spec?: MachineSpec;
  readonly state?: MachineState;
  readonly overlayBytesUsed?: number;
  readonly files: ReturnType<typeof machineFiles>;
}

/** Everything known about a machine. Only a machine that does not exist throws (MACHINE_NOT_FOUND). */
export function inspectMachine(paths: HostPaths, name: string): MachineInfo {
  const files = machineFiles(paths, name);
  let spec: MachineSpec | undefined;
  const problems: string[] = [];
  try {
    spec = readSpec(paths, name);
  } catch (e) {
    if (e instanceof UmlError && e.code === 'MACHINE_NOT_FOUND') throw e;
    problems.push((e as Error).message);
  }
  const { state, error } = readState(paths, name);
  const derived = deriveStatus({
    state,
    ...(error ? { stateError: error } : {}),
    supervisorAlive: state ? isAlive(state.supervisor) : false,
    kernelAlive: state?.kernel ? isAlive(state.kernel) : false,
  });
  let overlayBytesUsed: number | undefined;
  try {
    overlayBytesUsed = statSync(files.overlay).blocks * 512;
  } catch {
    problems.push(`the overlay ${files.overlay} is missing`);
  }
  // See pause.ts: a pause is only known from its marker.
  const paused = derived.status === 'running' && existsSync(join(files.runDir, 'paused'));
  return {
    name,
    ...derived,
    ...(paused ? { status: 'paused' as const } : {}),
    ...(problems.length ? { status: 'broken' as const } : {}),
    problems: [...derived.problems, ...problems],
    ...(spec ? { spec } : {}),
    ...(state ? { state } : {}),
    ...(overlayBytesUsed !== undefined ? { overlayBytesUsed } : {}),
    files,
  };
}

export function listMachines(paths: HostPaths): MachineInfo[] {
  return listMachineNames(paths).flatMap((name) => {
    try {
      return [inspectMachine(paths, name)];
    } catch {
      return [];
    }
  });
}

const isActive = (info: MachineInfo): boolean =>
  ['starting', 'running', 'paused', 'stopping'].includes(info.status);

/** Kill what a dead supervisor left behind (its kernel's process group, after checking pid + start time). */
function reapOrphans(info: MachineInfo): void {
  const k = info.state?.kernel;
  if (k && isAlive(k)) {
    try {
      process.kill(-k.pid, 'SIGKILL');
    } catch {}
  }
}

export interface StartOptions {
  readonly timeoutMs?: number;
  readonly env: Env;
}

/**
 * Start the machine's supervisor and wait until the guest is ready.
 * @throws {UmlError} WRONG_STATE if it runs already, START_FAILED with the console tail otherwise.
 */
export async function startMachine(
  paths: HostPaths,
  name: string,
  options: StartOptions,
): Promise<MachineInfo> {
  const info = inspectMachine(paths, name);
  if (isActive(info)) {
    throw new UmlError('WRONG_STATE', `machine ${quote(name)} is ${info.status}`, {
      hint: `stop it first: \`umlkit stop ${name}\``,
    });
  }
  reapOrphans(info);
  const files = info.files;
  const supervisorPid = spawnSupervisor(name, files, {
    ...process.env,
    ...options.env,
    UMLKIT_RESTART_ROUND: '',
  } as NodeJS.ProcessEnv);
  const deadline = Date.now() + (options.timeoutMs ?? 70_000);
  for (;;) {
    await new Promise((r) => setTimeout(r, 30));
    const now = readState(paths, name).state;
    const mine = now && now.supervisor.pid === supervisorPid;
    // Running and networked: a `ping PEER` right after `start` must find the peer's name.
    if (mine && now.phase === 'running' && now.networkReadyAt) return inspectMachine(paths, name);
    if (mine && now.phase === 'exited')
      throw startFailed(name, files.console, now.exit?.reason ?? 'exited', now.exit?.detail);
    if (Date.now() > deadline) {
      if (supervisorPid) {
        try {
          process.kill(supervisorPid, 'SIGTERM');
        } catch {}
      }
      throw startFailed(
        name,
        files.console,
        'timeout',
        `not ready within ${(options.timeoutMs ?? 70_000) / 1000} s`,
      );
    }
    if (!mine && supervisorPid && !existsSync(`/proc/${supervisorPid}`)) {
      throw startFailed(name, files.console, 'supervisor-died', `see ${files.supervisorLog}`);
    }
  }
}

function startFailed(name: string, consoleLog: string, reason: string, detail?: string): UmlError {
  const tail = existsSync(consoleLog)
    ? readLogTail(consoleLog, 4096).toString('utf8').split('\n').slice(-15).join('\n')
    : '';
  return new UmlError(
    'START_FAILED',
    `machine ${quote(name)} did not start (${reason}${detail ? `: ${detail}` : ''})`,
    {
      ...(tail
        ? { details: `--- last console lines ---\n${tail}\n--- full console log: ${consoleLog} ---` }
        : {}),
      hint: `see \`umlkit logs ${name}\` and \`umlkit inspect ${name}\``,
    },
  );
}

/** Graceful stop (ctrl-alt-del, then poweroff via the agent), then SIGKILL of the group after timeoutMs. */
export async function stopMachine(paths: HostPaths, name: string, timeoutMs: number): Promise<MachineInfo> {
  return endMachine(paths, name, { op: 'stop', timeoutMs }, timeoutMs + 5000);
}

export async function killMachine(paths: HostPaths, name: string): Promise<MachineInfo> {
  return endMachine(paths, name, { op: 'kill' }, 5000);
}

async function endMachine(
  paths: HostPaths,
  name: string,
  req: { op: 'stop'; timeoutMs: number } | { op: 'kill' },
  waitMs: number,
): Promise<MachineInfo> {
  const info = inspectMachine(paths, name);
  if (!isActive(info)) {
    reapOrphans(info);
    return inspectMachine(paths, name);
  }
  try {
    await requestSupervisor(info.files.socket, name, req, waitMs);
  } catch {
    // The supervisor is unreachable: do its job. Kill the kernel's group, then the supervisor.
    reapOrphans(info);
    if (info.state && isAlive(info.state.supervisor)) process.kill(info.state.supervisor.pid, 'SIGKILL');
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const now = inspectMachine(paths, name);
    if (!isActive(now)) return now;
    await new Promise((r) => setTimeout(r, 30));
  }
  return inspectMachine(paths, name);
}

/** @throws {UmlError} WRONG_STATE when running and not forced. */
export async function removeMachine(paths: HostPaths, name: string, force: boolean): Promise<void> {
  const info = inspectMachine(paths, name);
  if (isActive(info)) {
    if (!force)
      throw new UmlError('WRONG_STATE', `machine ${quote(name)} is ${info.status}`, {
        hint: `stop it first, or use \`umlkit rm -f ${name}\``,
      });
    await killMachine(paths, name);
  }
  reapOrphans(inspectMachine(paths, name));
  removeMachineFiles(paths, name);
  await forgetLeases(paths, name);
}

/** Run a command in a running machine. @throws {UmlError} WRONG_STATE when it is not running. */
export async function execInMachine(
  paths: HostPaths,
  name: string,
  request: ExecRequest,
  io: ExecIo,
): Promise<ExecHandle> {
  const info = inspectMachine(paths, name);
  if (info.status !== 'running') {
    throw new UmlError('WRONG_STATE', `machine ${quote(name)} is ${info.status}; exec needs it running`, {
      hint:
        info.status === 'paused'
          ? `resume it: \`umlkit resume ${name}\``
          : `start it: \`umlkit start ${name}\``,
    });
  }
  return execViaSupervisor(info.files.socket, name, request, io);
}
