// Wraps a kernel launch in the default sandbox: the bwrap + jail argv (core/sandbox-argv.ts) for this
// machine's files, its seccomp program, and a report of every layer for `inspect`. Refuses, rather
// than silently running weaker, when the host cannot build the sandbox and `--no-sandbox` was not given.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { UmlError } from '../../core/errors.ts';
import type { SandboxRecord } from '../../core/machine-status.ts';
import { machineCgroupLimits } from '../../core/sandbox/cgroup.ts';
import { fsizeLimit, ramTmpfsBytes, type SandboxLimits, sandboxArgv } from '../../core/sandbox-argv.ts';
import type { KernelLauncher } from '../kernel-process.ts';
import { type CgroupSupport, createMachineCgroup, NO_CGROUP_CONTROLLERS, removeWhenEmpty } from './cgroup.ts';
import { landlockAbi, landlockLaunch } from './landlock.ts';
import { sharedLibraries } from './libraries.ts';
import { JAIL_PATH, probeSandbox } from './probe.ts';
import { probeMemoFile } from './probe-memo.ts';
import { closeFd, openSeccompProgram, seccompDefault } from './seccomp.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Processes per machine (UML: one host process per guest address space); a cgroup adds pids.max above it. */
export const DEFAULT_PIDS_LIMIT = 512;
export const DEFAULT_NOFILE_LIMIT = 256;
/** The kernel's TMPDIR inside the sandbox: a private tmpfs that allows exec, sized for guest RAM. */
export const SANDBOX_RAM_DIR = '/umlkit-ram';
/** What UML opens in /dev; /proc/cpuinfo feeds its host CPU feature probe. */
const DEVICES = ['/dev/null', '/dev/random', '/dev/urandom'];
const HOST_FILES = ['/proc/cpuinfo'];
/** The fd bwrap reads the seccomp program from (0-3 are the kernel's console, log and agent line). */
const SECCOMP_FD = 4;

export interface SandboxInput {
  readonly kernelPath: string;
  readonly kernelArgv: readonly string[];
  /** The kernel's own environment (kernelEnv()); TMPDIR is replaced by the sandbox's RAM dir. */
  readonly kernelEnv: NodeJS.ProcessEnv;
  /** The machine's run dir: UML's uml_dir and sockets; bound writable at the same path. */
  readonly runDir: string;
  readonly readOnly: readonly string[];
  readonly readWrite: readonly string[];
  readonly memoryBytes: number;
  readonly env: Env;
  /** The machine has NICs: keep the host network namespace (its L2TPv3 sockets are on the host's 127.0.0.1). */
  readonly network?: boolean;
}

export type SandboxReport = SandboxRecord;

export interface PreparedLaunch {
  readonly launcher?: KernelLauncher;
  readonly report: SandboxReport;
  /** Close what was opened for the launch (call once the kernel is spawned). */
  readonly release: () => void;
}

const GUEST_LOCKS = 'modules disabled (sysctl.kernel.modules_disabled=1); hostfs off unless shared';

export function noSandboxReport(): SandboxReport {
  return {
    enabled: false,
    layers: {
      sandbox: 'off (--no-sandbox): the kernel runs with every permission of this user',
      guest: GUEST_LOCKS,
    },
  };
}

/** @throws {UmlError} SANDBOX_UNAVAILABLE when bwrap cannot build the sandbox on this host. */
export function prepareSandboxedLaunch(input: SandboxInput): PreparedLaunch {
  const support = probeSandbox(input.env);
  if ((!support.bwrap || !support.namespaces.ok) && landlockAbi(input.env) > 0) {
    return landlockFallback(input, support.namespaces.detail, support.cgroup);
  }
  if (!support.bwrap || !support.namespaces.ok) {
    throw new UmlError('SANDBOX_UNAVAILABLE', `cannot sandbox the machine: ${support.namespaces.detail}`, {
      hint: support.bwrap
        ? 'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces), or pass --no-sandbox to run unconfined (this kernel has no Landlock either)'
        : 'sudo apt-get install bubblewrap, or pass --no-sandbox to run unconfined (this kernel has no Landlock either)',
    });
  }
  const { limits, env, onOther, fd, kernelFiles } = launchParts(input);
  const cgroup = machineCgroup(support.cgroup, input, limits.nproc);
  env.TMPDIR = SANDBOX_RAM_DIR;
  const ramBytes = ramTmpfsBytes(input.memoryBytes);
  const args = sandboxArgv({
    bwrap: support.bwrap,
    jail: JAIL_PATH,
    kernel: input.kernelPath,
    kernelArgv: input.kernelArgv,
    env,
    readOnly: [...kernelFiles, JAIL_PATH, ...input.readOnly],
    // The run dir first: files UML creates inside it (a run's overlay) need no bind of their own.
    readWrite: [input.runDir, ...input.readWrite.filter((p) => !p.startsWith(`${input.runDir}/`))],
    devices: DEVICES,
    hostFiles: HOST_FILES,
    ramDir: SANDBOX_RAM_DIR,
    ramBytes,
    unshareNet: !input.network,
    seccompFd: SECCOMP_FD,
    limits,
  });
  return {
    launcher: {
      // The jail helper runs first outside too, only to set no_new_privs on bwrap itself: then no
      // process of the machine, the launcher included, can gain privileges through exec. It also joins
      // the machine's cgroup before it execs bwrap, so bwrap and every kernel process are born in it.
      command: JAIL_PATH,
      args: [...(cgroup.dir ? [`--cgroup=${cgroup.dir}`] : []), '--', ...args],
      env: { PATH: '/usr/bin:/bin' },
      extraFds: [fd],
    },
    report: {
      enabled: true,
      layers: {
        namespaces: 'user, mount, pid, ipc, uts, net (bubblewrap); the host view is only the machine files',
        seccomp: `allow-list for UML's host calls; others ${onOther === 'kill' ? 'kill the process' : 'are logged'}`,
        noNewPrivs: 'on; all capabilities dropped',
        rlimits: `core ${limits.core}, nofile ${limits.nofile}, nproc ${limits.nproc} (per machine), fsize ${limits.fsize}`,
        ...cgroup.layers,
        guest: GUEST_LOCKS,
      },
      limits: { ...limits, ramTmpfsBytes: ramBytes },
    },
    release: () => closeFd(fd),
  };
}

/**
 * What both sandboxes build alike: the rlimits, the kernel's environment, its seccomp program (an open fd:
 * release it), and the files the kernel needs to run (the binary, the XSAVE shim, their libraries).
 */
function launchParts(input: SandboxInput): {
  limits: SandboxLimits;
  env: Record<string, string>;
  onOther: ReturnType<typeof seccompDefault>;
  fd: number;
  kernelFiles: string[];
} {
  const largest = Math.max(0, ...[...input.readOnly, ...input.readWrite].map(fileSize));
  const limits: SandboxLimits = {
    core: 0,
    nofile: DEFAULT_NOFILE_LIMIT,
    nproc: DEFAULT_PIDS_LIMIT,
    fsize: fsizeLimit(input.memoryBytes, largest),
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.kernelEnv)) if (v !== undefined) env[k] = v;
  const preload = env.LD_PRELOAD;
  const onOther = seccompDefault(input.env, input.kernelArgv.includes('seccomp=on'));
  const fd = openSeccompProgram(input.runDir, onOther, input.network === true);
  const memo = probeMemoFile(input.env);
  const kernelFiles = [
    input.kernelPath,
    ...sharedLibraries(input.kernelPath, memo),
    ...(preload ? [preload, ...sharedLibraries(preload, memo)] : []),
  ];
  return { limits, env, onOther, fd, kernelFiles };
}

function fileSize(path: string): number {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/** The launch of one kernel: sandboxed (the default), or plain with `--no-sandbox`. */
export function prepareLaunch(sandbox: boolean, input: SandboxInput): PreparedLaunch {
  return sandbox ? prepareSandboxedLaunch(input) : { report: noSandboxReport(), release: () => {} };
}

/** Landlock + seccomp + rlimits, no namespaces: what remains where bwrap cannot run. */
function landlockFallback(input: SandboxInput, why: string, support: CgroupSupport): PreparedLaunch {
  const { limits, env, onOther, fd, kernelFiles } = launchParts(input);
  const cgroup = machineCgroup(support, input, limits.nproc);
  const launch = landlockLaunch({
    kernelPath: input.kernelPath,
    kernelArgv: input.kernelArgv,
    runDir: input.runDir,
    readOnly: [...kernelFiles, ...input.readOnly],
    readWrite: input.readWrite,
    seccompFd: SECCOMP_FD,
    limits,
    ...(cgroup.dir ? { cgroup: cgroup.dir } : {}),
  });
  env.TMPDIR = launch.ramDir;
  const [command, ...args] = launch.args;
  return {
    launcher: { command: command as string, args, env, extraFds: [fd] },
    report: {
      enabled: true,
      layers: {
        namespaces: `unavailable: ${why}; Landlock confines the filesystem to the machine's files instead (host pid and network namespaces are shared)`,
        seccomp: `allow-list for UML's host calls; others ${onOther === 'kill' ? 'kill the process' : 'are logged'}`,
        noNewPrivs: 'on',
        rlimits: `core ${limits.core}, nofile ${limits.nofile}, nproc ${launch.nproc} (per user: ${limits.nproc} above the user's processes at start), fsize ${limits.fsize}`,
        ...cgroup.layers,
        guest: GUEST_LOCKS,
      },
      limits: { ...limits, nproc: launch.nproc, ramTmpfsBytes: 0 },
    },
    release: () => closeFd(fd),
  };
}

/**
 * The machine's own cgroup where one is delegated (pids.max, memory.max; removed once its processes
 * are gone), and the report lines: `cgroup` plus one per controller, used or why not.
 */
function machineCgroup(
  support: CgroupSupport,
  input: SandboxInput,
  nproc: number,
): { dir?: string; layers: Record<string, string> } {
  const lines = (summary: string, c: CgroupSupport['controllers']): Record<string, string> => ({
    cgroup: summary,
    'cgroup.pids': c.pids,
    'cgroup.memory': c.memory,
    'cgroup.cpu': c.cpu,
  });
  if (!support.ok || !support.group)
    return { layers: lines(`unavailable: ${support.detail}`, support.controllers) };
  const limits = machineCgroupLimits({ memoryBytes: input.memoryBytes, nproc });
  const made = createMachineCgroup(support.group, basename(input.runDir), limits);
  if ('error' in made) {
    const why = `cannot create the machine's cgroup: ${made.error}`;
    return {
      layers: lines(`unavailable: ${why}`, NO_CGROUP_CONTROLLERS),
    };
  }
  removeWhenEmpty(made.dir);
  return {
    dir: made.dir,
    layers: lines(`used: ${made.dir}`, {
      pids: `used (pids.max ${limits['pids.max']})`,
      memory: `used (memory.max ${limits['memory.max']}: guest RAM + 256 MiB)`,
      cpu: support.controllers.cpu,
    }),
  };
}
