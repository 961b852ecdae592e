// `umlkit net inspect NAME`: the network, its ports, addresses and (when running) the switch's counters.
import { UmlError } from '../../core/errors.ts';
import { netFiles } from '../../host/net/net-store.ts';
import { resolvePaths } from '../../host/paths.ts';
import { requestSwitch } from '../../machine/net-client.ts';
import { inspectNet } from '../../machine/net-lifecycle.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { netJson } from '../net-json.ts';

export const command: Command = {
  name: 'net inspect',
  summary: 'show everything about a virtual network',
  usage: 'umlkit net inspect NAME [--json]',
  options: [JSON_OPTION],
  async run(args, ctx) {
    const [name] = args.positionals;
    if (!name) throw new UmlError('USAGE', 'give the network name', { hint: 'umlkit net inspect NAME' });
    const paths = resolvePaths(ctx.env);
    const info = inspectNet(paths, name);
    let live: Record<string, unknown> = {};
    if (info.status === 'running') {
      try {
        const r = await requestSwitch(netFiles(paths, name).socket, name, { op: 'status' });
        live = { stats: r.stats, macs: r.macs, portCounters: r.ports };
      } catch {}
    }
    const json = { ...netJson(info), ...live };
    if (args.values.json) ctx.stdout.write(`${JSON.stringify(json)}\n`);
    else ctx.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return 0;
  },
};
