// `umlkit resume NAME...`: let paused machines run again (mconsole `go`).

import { resolvePaths } from '../../host/paths.ts';
import { pauseMachine } from '../../machine/pause.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';

export const command: Command = {
  name: 'resume',
  summary: 'resume paused machines',
  usage: 'umlkit resume NAME...',
  options: [],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    return forEachMachine(args.positionals, ctx, 'resume', async (name) => {
      await pauseMachine(paths, name, false);
      return `${name} running`;
    });
  },
};
