// `umlkit inspect NAME...`: everything known about machines; sick ones are described, not errors.
import { resolvePaths } from '../../host/paths.ts';
import { inspectMachine } from '../../machine/lifecycle.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { forEachMachine } from '../each-machine.ts';
import { machineJson } from '../machine-json.ts';

export const command: Command = {
  name: 'inspect',
  summary: 'show everything about machines',
  usage: 'umlkit inspect NAME... [--json]',
  options: [JSON_OPTION],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    const json = args.values.json === true;
    const found: Record<string, unknown>[] = [];
    const code = await forEachMachine(args.positionals, ctx, 'inspect', async (name) => {
      const m = machineJson(inspectMachine(paths, name));
      if (json) {
        found.push(m);
        return undefined;
      }
      return Object.entries(m)
        .map(([k, v]) => `${k.padEnd(16)} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join('\n');
    });
    if (json) ctx.stdout.write(`${JSON.stringify({ version: 1, machines: found })}\n`);
    return code;
  },
};
