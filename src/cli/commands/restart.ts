// `umlkit restart NAME...`: stop (clean, then forced) and start again.
import { parseDurationMs } from '../../core/units.ts';
import { resolvePaths } from '../../host/paths.ts';
import { startMachine, stopMachine } from '../../machine/lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'restart',
  summary: 'stop and start machines',
  usage: 'umlkit restart NAME... [--time S]',
  options: [
    {
      name: 'time',
      type: 'string',
      value: 'S',
      description: 'seconds to wait for a clean shutdown (default 10)',
    },
  ],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    const t = stringOption(args.values, 'time');
    return forEachMachine(args.positionals, ctx, 'restart', async (name) => {
      await stopMachine(paths, name, t ? parseDurationMs(t, '--time') : 10_000);
      await startMachine(paths, name, { env: ctx.env });
      return `${name} running`;
    });
  },
};
