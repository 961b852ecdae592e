// `umlkit net ls`: every network, its switch's status and its attached machines.
import { resolvePaths } from '../../host/paths.ts';
import { listNets } from '../../machine/net-lifecycle.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { netJson } from '../net-json.ts';
import { renderTable } from '../output.ts';

export const command: Command = {
  name: 'net ls',
  summary: 'list virtual networks',
  usage: 'umlkit net ls [--json]',
  description:
    'Status: running, stopped (by `net stop`), or crashed (the switch died; machines on it restart it within 2 s, or `net start`).',
  options: [JSON_OPTION],
  async run(args, ctx) {
    const nets = listNets(resolvePaths(ctx.env));
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify({ version: 1, networks: nets.map(netJson) })}\n`);
      return 0;
    }
    if (nets.length === 0) {
      ctx.stdout.write('no networks; create one with `umlkit net create NAME`\n');
      return 0;
    }
    ctx.stdout.write(
      renderTable([
        ['NAME', 'STATUS', 'SUBNET', 'MACHINES'],
        ...nets.map((n) => [
          n.name,
          n.status,
          n.spec.subnet,
          [...new Set(n.ports.map((p) => p.machine))].join(','),
        ]),
      ]),
    );
    return 0;
  },
};
