// `umlkit net start NAME...`: start a stopped switch, or recover a crashed one (same UDP port, same ports).
import { resolvePaths } from '../../host/paths.ts';
import { startNet } from '../../machine/net-lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';

export const command: Command = {
  name: 'net start',
  summary: "start (or recover) a network's switch",
  usage: 'umlkit net start NAME...',
  options: [],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    return forEachMachine(args.positionals, ctx, 'net start', async (name) => {
      const info = await startNet(paths, name, ctx.env);
      return `${name} running (${info.ports.length} ports)`;
    });
  },
};
