// `umlkit net stop NAME...`: stop switches; attached machines keep their NICs, silent until `net start`.
import { resolvePaths } from '../../host/paths.ts';
import { stopNet } from '../../machine/net-lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';

export const command: Command = {
  name: 'net stop',
  summary: "stop a network's switch",
  usage: 'umlkit net stop NAME...',
  options: [],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    return forEachMachine(args.positionals, ctx, 'net stop', async (name) => {
      await stopNet(paths, name);
      return `${name} stopped`;
    });
  },
};
