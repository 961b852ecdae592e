// `umlkit rm [-f] NAME...`: remove machines and their overlays.
import { resolvePaths } from '../../host/paths.ts';
import { removeMachine } from '../../machine/lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';

export const command: Command = {
  name: 'rm',
  summary: 'remove machines (and everything they wrote to their root disk)',
  usage: 'umlkit rm [-f] NAME...',
  options: [{ name: 'force', short: 'f', type: 'boolean', description: 'kill a running machine first' }],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    return forEachMachine(args.positionals, ctx, 'rm', async (name) => {
      await removeMachine(paths, name, args.values.force === true);
      return `${name} removed`;
    });
  },
};
