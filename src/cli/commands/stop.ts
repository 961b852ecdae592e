// `umlkit stop NAME...`: graceful shutdown (ctrl-alt-del to init), then SIGKILL of the group after --time.
import { resolvePaths } from '../../host/paths.ts';
import { stopMachine } from '../../machine/lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';
import { readStopTimeMs, STOP_TIME_OPTION } from '../machine-options.ts';

export const command: Command = {
  name: 'stop',
  summary: 'stop machines: their init shuts down cleanly, forced after --time',
  usage: 'umlkit stop NAME... [--time S]',
  options: [STOP_TIME_OPTION],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    const timeoutMs = readStopTimeMs(args.values);
    return forEachMachine(args.positionals, ctx, 'stop', async (name) => {
      const info = await stopMachine(paths, name, timeoutMs);
      return `${name} ${info.status}${info.reason ? ` (${info.reason})` : ''}`;
    });
  },
};
