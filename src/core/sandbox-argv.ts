// Renders the sandbox around a UML kernel as the argv of bubblewrap plus our jail helper. Pure, so the
// exact host view of a machine (every mount, namespace and limit) is golden-tested as a value.
import { quote, UmlError } from './errors.ts';

/** Per-process resource limits, set inside the sandbox by the jail helper (native/jail). */
export interface SandboxLimits {
  readonly core: number;
  readonly nofile: number;
  /** Processes of the machine's user namespace (UML: one host process per guest address space). */
  readonly nproc: number;
  /** Largest file the kernel may write: must exceed the guest RAM file and every disk. */
  readonly fsize: number;
}

export interface SandboxPlan {
  readonly bwrap: string;
  readonly jail: string;
  readonly kernel: string;
  readonly kernelArgv: readonly string[];
  /** Environment of the kernel (bwrap starts from an empty one). */
  readonly env: Readonly<Record<string, string>>;
  /** Bound read-only at the same path: the kernel's libraries, the initramfs, the shim, the base image. */
  readonly readOnly: readonly string[];
  /** Bound writable at the same path: the overlay, writable disks and shares, the run dir (sockets). */
  readonly readWrite: readonly string[];
  /** Device nodes UML opens (/dev/null, /dev/random, /dev/urandom). */
  readonly devices: readonly string[];
  /** Host files bound read-only that are not ours to name (e.g. /proc/cpuinfo for UML's CPU probe). */
  readonly hostFiles: readonly string[];
  /** The private exec-able tmpfs for guest RAM (TMPDIR of the kernel) and its size cap. */
  readonly ramDir: string;
  readonly ramBytes: number;
  /** Unshare the network too (every machine without a host-side network helper). */
  readonly unshareNet: boolean;
  /** fd (in bwrap's process) of the compiled seccomp program, or none. */
  readonly seccompFd?: number;
  readonly limits: SandboxLimits;
}

function absolute(path: string, what: string): string {
  if (!path.startsWith('/') || path.split('/').includes('..')) {
    throw new UmlError('INTERNAL', `sandbox ${what} path ${quote(path)} is not absolute and normalized`);
  }
  return path;
}

export function sandboxArgv(plan: SandboxPlan): string[] {
  const argv = [
    plan.bwrap,
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(plan.unshareNet ? ['--unshare-net'] : []),
    // The sandbox dies with its parent (our CLI or supervisor), so no machine outlives its owner.
    '--die-with-parent',
    // No controlling terminal: TIOCSTI from an escaped guest cannot type into the user's shell.
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    'umlkit',
    '--clearenv',
    ...Object.entries(plan.env).flatMap(([k, v]) => ['--setenv', k, v]),
    // tmpfs first: binds below its path (a run dir under /tmp) must be mounted after it, not hidden by it.
    '--size',
    String(plan.ramBytes),
    '--perms',
    '0700',
    '--tmpfs',
    absolute(plan.ramDir, 'ram'),
  ];
  const seen = new Set<string>();
  const bind = (flag: string, path: string, what: string): void => {
    const p = absolute(path, what);
    if (seen.has(p)) return;
    seen.add(p);
    argv.push(flag, p, p);
  };
  for (const p of plan.readOnly) bind('--ro-bind', p, 'read-only');
  for (const p of plan.hostFiles) bind('--ro-bind', p, 'host');
  for (const p of plan.readWrite) bind('--bind', p, 'writable');
  for (const p of plan.devices) bind('--dev-bind', p, 'device');
  if (plan.seccompFd !== undefined) argv.push('--seccomp', String(plan.seccompFd));
  const l = plan.limits;
  argv.push(
    '--',
    absolute(plan.jail, 'jail'),
    `--core=${l.core}`,
    `--nofile=${l.nofile}`,
    `--nproc=${l.nproc}`,
    `--fsize=${l.fsize}`,
    '--',
    absolute(plan.kernel, 'kernel'),
    ...plan.kernelArgv,
  );
  return argv;
}

const MIB = 1024 * 1024;

/**
 * RLIMIT_FSIZE for a machine: UML's RAM file is mem plus the "exec-shield gap" (up to about 1 GiB,
 * random per boot), and an overlay grows to its base's size plus the header and bitmap.
 */
export function fsizeLimit(memoryBytes: number, largestDiskBytes: number): number {
  return Math.max(memoryBytes + 2048 * MIB, Math.ceil(largestDiskBytes * 1.05) + 64 * MIB);
}

/** The guest-RAM tmpfs: the guest's pages live there, so it must hold mem plus UML's own use. */
export const ramTmpfsBytes = (memoryBytes: number): number => memoryBytes + 128 * MIB;

/** The fallback where bwrap cannot run: the jail helper alone (Landlock, seccomp, rlimits). */
export interface LandlockPlan {
  readonly jail: string;
  readonly kernel: string;
  readonly kernelArgv: readonly string[];
  readonly readOnly: readonly string[];
  readonly readWrite: readonly string[];
  readonly seccompFd: number;
  readonly limits: SandboxLimits;
  /** The machine's cgroup directory, joined by the jail before anything else. */
  readonly cgroup?: string;
}

export function landlockArgv(plan: LandlockPlan): string[] {
  const l = plan.limits;
  const paths = (flag: string, list: readonly string[], what: string): string[] =>
    [...new Set(list)].map((p) => `${flag}=${absolute(p, what)}`);
  return [
    absolute(plan.jail, 'jail'),
    ...(plan.cgroup ? [`--cgroup=${absolute(plan.cgroup, 'cgroup')}`] : []),
    `--core=${l.core}`,
    `--nofile=${l.nofile}`,
    `--nproc=${l.nproc}`,
    `--fsize=${l.fsize}`,
    ...paths('--ro', plan.readOnly, 'read-only'),
    ...paths('--rw', plan.readWrite, 'writable'),
    `--seccomp-fd=${plan.seccompFd}`,
    '--',
    absolute(plan.kernel, 'kernel'),
    ...plan.kernelArgv,
  ];
}
