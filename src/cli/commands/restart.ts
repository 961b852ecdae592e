// `umlkit restart NAME...`: stop (clean, then forced) and start again.
import { resolvePaths } from '../../host/paths.ts';
import { startMachine, stopMachine } from '../../machine/lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';
import { readStopTimeMs, STOP_TIME_OPTION } from '../machine-options.ts';

export const command: Command = {
  name: 'restart',
  summary: 'stop and start machines',
  usage: 'umlkit restart NAME... [--time S]',
  options: [STOP_TIME_OPTION],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    const timeoutMs = readStopTimeMs(args.values);
    return forEachMachine(args.positionals, ctx, 'restart', async (name) => {
      await stopMachine(paths, name, timeoutMs);
      await startMachine(paths, name, { env: ctx.env });
      return `${name} running`;
    });
  },
};
