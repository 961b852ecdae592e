// `umlkit net run NAME` (hidden): the switch process of one network, started detached by `net create`/`net start`.
import { UmlError } from '../../core/errors.ts';
import { resolvePaths } from '../../host/paths.ts';
import { runSwitch } from '../../machine/net-switch.ts';
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'net run',
  summary: 'internal: the switch of one network (started by `umlkit net create` / `net start`)',
  usage: 'umlkit net run NAME',
  options: [],
  async run(args) {
    const [name] = args.positionals;
    if (!name) throw new UmlError('USAGE', 'give the network name');
    return runSwitch(name, resolvePaths(process.env));
  },
};
