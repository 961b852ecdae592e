// `umlkit kill NAME...`: SIGKILL of every process of the machine, now.
import { resolvePaths } from '../../host/paths.ts';
import { killMachine } from '../../machine/lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';

export const command: Command = {
  name: 'kill',
  summary: 'kill machines at once (no clean shutdown)',
  usage: 'umlkit kill NAME...',
  options: [],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    return forEachMachine(args.positionals, ctx, 'kill', async (name) => {
      const info = await killMachine(paths, name);
      return `${name} ${info.status}`;
    });
  },
};
