// `umlkit net rm [-f] NAME...`: stop each switch and remove the network's files.
import { resolvePaths } from '../../host/paths.ts';
import { removeNet } from '../../machine/net-lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';

export const command: Command = {
  name: 'net rm',
  summary: 'remove virtual networks',
  usage: 'umlkit net rm [-f] NAME...',
  options: [
    {
      name: 'force',
      short: 'f',
      type: 'boolean',
      description: 'even while machines are attached (their NICs go silent)',
    },
  ],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    return forEachMachine(args.positionals, ctx, 'net rm', async (name) => {
      await removeNet(paths, name, args.values.force === true);
      return `${name} removed`;
    });
  },
};
