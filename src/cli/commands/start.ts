// `umlkit start NAME...`: boot machines and wait until each is ready (its agent answers).

import { parseDurationMs } from '../../core/units.ts';
import { resolvePaths } from '../../host/paths.ts';
import { startMachine } from '../../machine/lifecycle.ts';
import type { Command } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'start',
  summary: 'start machines and wait until they are ready',
  usage: 'umlkit start NAME... [--timeout S]',
  description:
    'Also recovers a machine whose supervisor or kernel died: leftovers are killed and cleaned first.',
  options: [
    { name: 'timeout', type: 'string', value: 'S', description: 'how long to wait for ready (default 70)' },
  ],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    const t = stringOption(args.values, 'timeout');
    const timeoutMs = t ? parseDurationMs(t, '--timeout') : 70_000;
    return forEachMachine(args.positionals, ctx, 'start', async (name) => {
      const t0 = performance.now();
      await startMachine(paths, name, { env: ctx.env, timeoutMs });
      return `${name} running (ready in ${Math.round(performance.now() - t0)} ms)`;
    });
  },
};
