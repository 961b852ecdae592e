// `umlkit pause NAME...`: freeze machines through the management console (mconsole `stop`).

import { resolvePaths } from '../../host/paths.ts';
import { pauseMachine } from '../../machine/pause.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';

export const command: Command = {
  name: 'pause',
  summary: 'freeze machines (the guest makes no progress until resume)',
  usage: 'umlkit pause NAME...',
  options: [],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    return forEachMachine(args.positionals, ctx, 'pause', async (name) => {
      await pauseMachine(paths, name, true);
      return `${name} paused`;
    });
  },
};
