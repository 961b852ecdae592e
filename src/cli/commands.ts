// The command table: name → summary and a lazy loader, so `umlkit --help` loads no command code.
import type { Command } from './command.ts';

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ command: Command }>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'run',
    summary: 'boot an ephemeral machine, run a command in it, power off',
    load: () => import('./commands/run.ts'),
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
