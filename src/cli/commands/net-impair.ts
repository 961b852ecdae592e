// `umlkit net impair NET [MACHINE] SPEC`: delay, jitter, loss, duplication, rate on a machine's link
// (both directions) or on every port; takes effect at once on the running switch.
import { UmlError } from '../../core/errors.ts';
import { parseImpairment } from '../../core/net/impairment.ts';
import { netFiles } from '../../host/net/net-store.ts';
import { resolvePaths } from '../../host/paths.ts';
import { requestSwitch } from '../../machine/net-client.ts';
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'net impair',
  summary: 'set delay, jitter, loss, duplication or a rate limit on a link, while it runs',
  usage: 'umlkit net impair NET [MACHINE] delay=50ms,jitter=5ms,loss=1%,dup=0.1%,rate=10mbit | clear',
  description:
    "Applies to each direction of MACHINE's port (of every port without MACHINE). Keys not named keep their values; `clear` removes all. Lost frames never reach the other side; `net inspect` shows the settings.",
  options: [],
  examples: [
    'umlkit net impair lab web loss=100%',
    'umlkit net impair lab web loss=0',
    'umlkit net impair lab delay=20ms',
  ],
  async run(args, ctx) {
    const pos = args.positionals;
    const [net, a, b] = pos;
    if (!net || !a || pos.length > 3)
      throw new UmlError('USAGE', 'give the network, optionally a machine, and the impairment', {
        hint: 'umlkit net impair lab web loss=10%',
      });
    const [machine, spec] = b === undefined ? [undefined, a] : [a, b];
    parseImpairment(spec); // refuse bad input here, with its quote, before asking the switch
    const r = await requestSwitch(netFiles(resolvePaths(ctx.env), net).socket, net, {
      op: 'impair',
      ...(machine ? { machine } : {}),
      spec,
    });
    for (const p of r.ports as { machine: string; device: string; impairment: string }[])
      ctx.stdout.write(`${p.machine} ${p.device}: ${p.impairment}\n`);
    return 0;
  },
};
