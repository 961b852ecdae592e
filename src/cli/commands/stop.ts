// `umlkit stop NAME...`: graceful shutdown (ctrl-alt-del to init), then SIGKILL of the group after --time.
import { parseDurationMs } from '../../core/units.ts';
import { resolvePaths } from '../../host/paths.ts';
import { stopMachine } from '../../machine/lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'stop',
  summary: 'stop machines: their init shuts down cleanly, forced after --time',
  usage: 'umlkit stop NAME... [--time S]',
  options: [
    {
      name: 'time',
      type: 'string',
      value: 'S',
      description: 'seconds to wait for a clean shutdown before killing (default 10)',
    },
  ],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    const t = stringOption(args.values, 'time');
    const timeoutMs = t ? parseDurationMs(t, '--time') : 10_000;
    return forEachMachine(args.positionals, ctx, 'stop', async (name) => {
      const info = await stopMachine(paths, name, timeoutMs);
      return `${name} ${info.status}${info.reason ? ` (${info.reason})` : ''}`;
    });
  },
};
