// `umlkit net create NAME [--subnet CIDR]`: a virtual network (a learning switch, its own process).
import { UmlError } from '../../core/errors.ts';
import { resolvePaths } from '../../host/paths.ts';
import { createNet } from '../../machine/net-lifecycle.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'net create',
  summary: 'create a virtual network: a switch machines join with --net NAME',
  usage: 'umlkit net create NAME [--subnet 10.0.0.0/24]',
  description:
    "Starts the switch at once (it runs until `net stop`/`net rm`). Machines on it get stable addresses from the subnet (.1 is reserved) and each other's names in /etc/hosts.",
  options: [
    {
      name: 'subnet',
      type: 'string',
      value: 'CIDR',
      description: 'IPv4 subnet (default: the first free 10.0.N.0/24)',
    },
  ],
  examples: ['umlkit net create lab', 'umlkit create web --net lab --start'],
  async run(args, ctx) {
    const [name, ...extra] = args.positionals;
    if (!name || extra.length > 0)
      throw new UmlError('USAGE', 'give exactly one network name', { hint: 'umlkit net create NAME' });
    const subnet = stringOption(args.values, 'subnet');
    const info = await createNet(resolvePaths(ctx.env), name, {
      ...(subnet ? { subnet } : {}),
      env: ctx.env,
    });
    ctx.stdout.write(`${name} created (${info.spec.subnet})\n`);
    return 0;
  },
};
