// The command table: name → summary and a lazy loader, so `umlkit --help` loads no command code.
import type { Command } from './command.ts';

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ command: Command }>;
  /** Internal commands are runnable but not listed in help. */
  readonly hidden?: boolean;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'supervise',
    summary: 'internal: the supervisor of one machine',
    hidden: true,
    load: () => import('./commands/supervise.ts'),
  },
  {
    name: 'run',
    summary: 'boot an ephemeral machine, run a command in it, power off',
    load: () => import('./commands/run.ts'),
  },
  {
    name: 'create',
    summary: 'create a named machine (its overlay keeps its changes across restarts)',
    load: () => import('./commands/create.ts'),
  },
  {
    name: 'start',
    summary: 'start machines and wait until they are ready',
    load: () => import('./commands/start.ts'),
  },
  {
    name: 'stop',
    summary: 'stop machines: their init shuts down cleanly, forced after --time',
    load: () => import('./commands/stop.ts'),
  },
  {
    name: 'restart',
    summary: 'stop and start machines',
    load: () => import('./commands/restart.ts'),
  },
  {
    name: 'kill',
    summary: 'kill machines at once (no clean shutdown)',
    load: () => import('./commands/kill.ts'),
  },
  {
    name: 'rm',
    summary: 'remove machines (and everything they wrote to their root disk)',
    load: () => import('./commands/rm.ts'),
  },
  {
    name: 'ls',
    summary: 'list machines and their status',
    load: () => import('./commands/ls.ts'),
  },
  {
    name: 'inspect',
    summary: 'show everything about machines',
    load: () => import('./commands/inspect.ts'),
  },
  {
    name: 'logs',
    summary: "print a machine's console log",
    load: () => import('./commands/logs.ts'),
  },
  {
    name: 'console',
    summary: "attach to a running machine's console (Ctrl-] detaches)",
    load: () => import('./commands/console.ts'),
  },
  {
    name: 'exec',
    summary: 'run a command in a running machine',
    load: () => import('./commands/exec.ts'),
  },
  {
    name: 'pause',
    summary: 'freeze machines (the guest makes no progress until resume)',
    load: () => import('./commands/pause.ts'),
  },
  {
    name: 'resume',
    summary: 'resume paused machines',
    load: () => import('./commands/resume.ts'),
  },
  {
    name: 'boot',
    summary: "boot an image's own init with the console on this terminal",
    load: () => import('./commands/boot.ts'),
  },
  {
    name: 'demo',
    summary: 'the seed walkthrough: a disk written in a guest, read on the host',
    load: () => import('./commands/demo.ts'),
  },
  {
    name: 'doctor',
    summary: 'check that this host can run machines, and say how to fix what is missing',
    load: () => import('./commands/doctor.ts'),
  },
  {
    name: 'kernel install',
    summary: "fetch Debian's user-mode-linux kernel into your cache (no root)",
    load: () => import('./commands/kernel-install.ts'),
  },
  {
    name: 'kernel ls',
    summary: 'list the kernels umlkit can use',
    load: () => import('./commands/kernel-ls.ts'),
  },
  {
    name: 'kernel build',
    summary: 'build a UML kernel from source (yours or Debian linux-source-X) into the cache',
    load: () => import('./commands/kernel-build.ts'),
  },
  {
    name: 'kernel use',
    summary: 'make a kernel the default for new machines',
    load: () => import('./commands/kernel-use.ts'),
  },
  {
    name: 'kernel info',
    summary: 'show what a kernel is, where it came from and what it can do',
    load: () => import('./commands/kernel-info.ts'),
  },
  {
    name: 'kernel rm',
    summary: 'remove kernels from the cache',
    load: () => import('./commands/kernel-rm.ts'),
  },
  {
    name: 'kernel calibrate',
    summary: 'measure a kernel once so its later boots skip the delay-loop calibration',
    load: () => import('./commands/kernel-calibrate.ts'),
  },
  {
    name: 'image build',
    summary: 'build a root filesystem image (busybox) into your cache',
    load: () => import('./commands/image-build.ts'),
  },
  {
    name: 'image ls',
    summary: 'list cached images',
    load: () => import('./commands/image-ls.ts'),
  },
  {
    name: 'image rm',
    summary: 'remove cached images',
    load: () => import('./commands/image-rm.ts'),
  },
  {
    name: 'disk create',
    summary: 'create a disk image, optionally filled from a host directory',
    load: () => import('./commands/disk-create.ts'),
  },
  {
    name: 'disk ls',
    summary: 'list a directory inside a disk image, from the host',
    load: () => import('./commands/disk-ls.ts'),
  },
  {
    name: 'disk cat',
    summary: 'print a file inside a disk image, from the host',
    load: () => import('./commands/disk-cat.ts'),
  },
  {
    name: 'mconsole',
    summary: 'send a management-console command to a running machine (as uml_mconsole)',
    load: () => import('./commands/mconsole.ts'),
  },
  {
    name: 'cow create',
    summary: 'create a copy-on-write overlay over a base image (instant, sparse)',
    load: () => import('./commands/cow-create.ts'),
  },
  {
    name: 'cow info',
    summary: "show an overlay's header, base check and usage",
    load: () => import('./commands/cow-info.ts'),
  },
  {
    name: 'cow merge',
    summary: "write an overlay's changes into its base, in place",
    load: () => import('./commands/cow-merge.ts'),
  },
  {
    name: 'cow commit',
    summary: 'flatten an overlay and its base into a new standalone image',
    load: () => import('./commands/cow-commit.ts'),
  },
  {
    name: 'cow rebase',
    summary: 'point an overlay at a base that moved (size and mtime must match)',
    load: () => import('./commands/cow-rebase.ts'),
  },
  {
    name: 'cow diff',
    summary: 'list the blocks, and for ext4 the files, an overlay changed',
    load: () => import('./commands/cow-diff.ts'),
  },
  {
    name: 'net run',
    summary: 'internal: the switch of one network',
    hidden: true,
    load: () => import('./commands/net-run.ts'),
  },
  {
    name: 'net create',
    summary: 'create a virtual network: a switch machines join with --net NAME',
    load: () => import('./commands/net-create.ts'),
  },
  {
    name: 'net ls',
    summary: 'list virtual networks',
    load: () => import('./commands/net-ls.ts'),
  },
  {
    name: 'net inspect',
    summary: 'show everything about a virtual network',
    load: () => import('./commands/net-inspect.ts'),
  },
  {
    name: 'net rm',
    summary: 'remove virtual networks',
    load: () => import('./commands/net-rm.ts'),
  },
  {
    name: 'net start',
    summary: "start (or recover) a network's switch",
    load: () => import('./commands/net-start.ts'),
  },
  {
    name: 'net stop',
    summary: "stop a network's switch",
    load: () => import('./commands/net-stop.ts'),
  },
  {
    name: 'net capture',
    summary: "write a network's traffic as pcap (for tcpdump, tshark, Wireshark)",
    load: () => import('./commands/net-capture.ts'),
  },
  {
    name: 'net impair',
    summary: 'set delay, jitter, loss, duplication or a rate limit on a link, while it runs',
    load: () => import('./commands/net-impair.ts'),
  },
  {
    name: 'net connect',
    summary: 'connect a running machine to a network (hot-plug)',
    load: () => import('./commands/net-connect.ts'),
  },
  {
    name: 'net disconnect',
    summary: 'disconnect a machine from a network (hot-unplug)',
    load: () => import('./commands/net-disconnect.ts'),
  },
];

/** The entry for argv's leading words: two-word group commands first, then single words. */
export function findCommand(argv: readonly string[]): { entry: CommandEntry; consumed: number } | undefined {
  const two = `${argv[0] ?? ''} ${argv[1] ?? ''}`;
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { entry: byTwo, consumed: 2 };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { entry: byOne, consumed: 1 } : undefined;
}

/** Commands of a noun group, e.g. `image` → image build, image ls, image rm. */
export const groupCommands = (noun: string): CommandEntry[] =>
  COMMANDS.filter((c) => c.name.startsWith(`${noun} `));
