// `umlkit supervise NAME` (hidden): the per-machine supervisor process that `umlkit start` launches.
import { UmlError } from '../../core/errors.ts';
import { resolvePaths } from '../../host/paths.ts';
import { supervise } from '../../machine/supervisor.ts';
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'supervise',
  summary: 'internal: the supervisor of one machine (started by `umlkit start`)',
  usage: 'umlkit supervise NAME',
  options: [],
  async run(args) {
    const [name] = args.positionals;
    if (!name) throw new UmlError('USAGE', 'give the machine name');
    return supervise(name, resolvePaths(process.env), process.env);
  },
};
