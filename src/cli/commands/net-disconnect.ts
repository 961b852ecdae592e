// `umlkit net disconnect NET MACHINE`: unplug the machine's NIC on that network (mconsole remove).
import { UmlError } from '../../core/errors.ts';
import { resolvePaths } from '../../host/paths.ts';
import { disconnectMachine } from '../../machine/net-hotplug.ts';
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'net disconnect',
  summary: 'disconnect a machine from a network (hot-unplug)',
  usage: 'umlkit net disconnect NET MACHINE',
  options: [],
  async run(args, ctx) {
    const [net, machine, ...extra] = args.positionals;
    if (!net || !machine || extra.length > 0)
      throw new UmlError('USAGE', 'give the network and the machine', {
        hint: 'umlkit net disconnect lab web',
      });
    const r = await disconnectMachine(resolvePaths(ctx.env), net, machine);
    ctx.stdout.write(`${machine} ${r.device} disconnected from ${net}\n`);
    return 0;
  },
};
