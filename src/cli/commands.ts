// The command table: name → summary and a lazy loader, so `umlkit --help` loads no command code.
import type { Command } from './command.ts';

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ command: Command }>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'mconsole', summary: 'send a management-console command to a running machine (as uml_mconsole)', load: () => import('./commands/mconsole.ts') },
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
export const groupCommands = (noun: string): CommandEntry[] => COMMANDS.filter((c) => c.name.startsWith(`${noun} `));
