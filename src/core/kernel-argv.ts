// Renders a machine plan as the UML kernel's argv. Pure, so every flag is unit-tested as golden argv.
import { checkKernelPath, MAX_UBD_UNITS } from './disk-spec.ts';
import { quote, UmlError } from './errors.ts';

export type RootDisk =
  | { readonly kind: 'overlay'; readonly overlay: string; readonly base: string }
  | { readonly kind: 'plain'; readonly path: string; readonly readonly: boolean };

export interface MachinePlan {
  readonly umid: string;
  readonly umlDir: string;
  readonly memoryBytes: number;
  readonly root: RootDisk;
  readonly disks: readonly { readonly path: string; readonly readonly: boolean }[];
  readonly initrd: string;
  /** fd (in the kernel's process) of the agent line; becomes ttyS1 in the guest. */
  readonly agentFd: number;
  readonly mode: 'run' | 'boot';
  /**
   * Console input from the kernel's fd 0 (long-lived machines, whose supervisor keeps that pipe open:
   * an EOF on console input would silence the console for good). Otherwise the console is output-only.
   */
  readonly consoleInput?: boolean;
  /** Datagram socket for mconsole notifications (panic, user notify). */
  readonly notifySocket?: string;
  /** Guest hostname (default: the umid). */
  readonly hostname?: string;
  /** Host directories mounted in the guest with hostfs (the sandbox shows the kernel only these). */
  readonly shares?: readonly ShareSpec[];
  /** The kernel's speed options on this host (`lpj=`, `seccomp=on`: src/host/kernel-boot-args.ts). */
  readonly bootArgs?: readonly string[];
  readonly extraArgs?: readonly string[];
}

export interface ShareSpec {
  readonly hostDir: string;
  readonly guestDir: string;
  readonly readonly: boolean;
}

/** UML joins its arguments into one command line of at most 4096 bytes and exits(1) beyond that. */
export const MAX_KERNEL_CMDLINE = 4096;
/** UML silently replaces a longer umid with a random one, losing our socket names. */
export const MAX_UMID = 63;
export const AGENT_LINE = 1;

function memoryArg(bytes: number): string {
  const mib = 1024 * 1024;
  return bytes % mib === 0 ? `${bytes / mib}M` : `${Math.ceil(bytes / 1024)}K`;
}

export function kernelArgv(plan: MachinePlan): string[] {
  if (plan.umid.length === 0 || plan.umid.length > MAX_UMID || !/^[A-Za-z0-9._-]+$/.test(plan.umid)) {
    throw new UmlError(
      'INVALID_NAME',
      `umid ${quote(plan.umid)} must be 1-${MAX_UMID} characters of A-Z a-z 0-9 . _ -`,
    );
  }
  if (plan.disks.length + 1 > MAX_UBD_UNITS) {
    throw new UmlError(
      'USAGE',
      `${plan.disks.length} extra disks given; UML supports at most ${MAX_UBD_UNITS - 1}`,
      {
        hint: 'attach fewer disks',
      },
    );
  }
  const root =
    plan.root.kind === 'overlay'
      ? `ubd0=${checkKernelPath(plan.root.overlay, 'overlay')},${checkKernelPath(plan.root.base, 'image')}`
      : `ubd0${plan.root.readonly ? 'r' : ''}=${checkKernelPath(plan.root.path, 'image')}`;
  // `d`: never read a user's disk as a COW file, so a crafted header cannot make UML open another host file.
  const disks = plan.disks.map(
    (d, i) => `ubd${i + 1}${d.readonly ? 'r' : ''}d=${checkKernelPath(d.path, 'disk')}`,
  );
  const argv = [
    `umid=${plan.umid}`,
    `uml_dir=${checkKernelPath(plan.umlDir, 'runtime')}`,
    `mem=${memoryArg(plan.memoryBytes)}`,
    root,
    ...disks,
    `initrd=${checkKernelPath(plan.initrd, 'initramfs')}`,
    // The Debian defaults for other lines are invalid on modern hosts: set every line explicitly.
    'con=null',
    'ssl=null',
    plan.consoleInput ? 'con0=fd:0,fd:1' : 'con0=null,fd:1',
    `ssl${AGENT_LINE}=fd:${plan.agentFd}`,
    `umlkit_mode=${plan.mode}`,
    'umlkit_root=/dev/ubda',
    `umlkit_hostname=${plan.hostname ?? plan.umid}`,
    `umlkit_line=/dev/ttyS${AGENT_LINE}`,
    // Guest root must not gain host code: no module loading after boot, and hostfs (which reaches any
    // host path the kernel process can see) only when the user shares a directory.
    'sysctl.kernel.modules_disabled=1',
    ...((plan.shares ?? []).length === 0 ? ['initcall_blacklist=init_hostfs'] : []),
    ...(plan.shares ?? []).map(
      (s, i) =>
        `umlkit_share${i}=${checkKernelPath(s.hostDir, 'share')}:${checkKernelPath(s.guestDir, 'guest share')}:${s.readonly ? 'ro' : 'rw'}`,
    ),
    ...(plan.notifySocket ? [`mconsole=notify:${checkKernelPath(plan.notifySocket, 'notify socket')}`] : []),
    ...(plan.bootArgs ?? []),
    ...(plan.extraArgs ?? []),
  ];
  const length = argv.join(' ').length;
  if (length > MAX_KERNEL_CMDLINE - 64) {
    throw new UmlError(
      'USAGE',
      `the kernel command line would be ${length} bytes; UML accepts about ${MAX_KERNEL_CMDLINE}`,
      {
        hint: 'use shorter paths (for example a shorter UMLKIT_RUNTIME_DIR) or fewer disks',
      },
    );
  }
  return argv;
}
