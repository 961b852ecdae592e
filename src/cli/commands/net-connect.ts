// `umlkit net connect NET MACHINE`: hot-plug a NIC on a running machine (mconsole config), configured at once.
import { UmlError } from '../../core/errors.ts';
import { parseNicSpec } from '../../core/net/nic-spec.ts';
import { resolvePaths } from '../../host/paths.ts';
import { connectMachine } from '../../machine/net-hotplug.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'net connect',
  summary: 'connect a running machine to a network (hot-plug)',
  usage: 'umlkit net connect NET MACHINE [--ip A|auto|none] [--mac M] [--transport l2tpv3|daemon]',
  description:
    "The new NIC is the next free vecN (ethN with --transport daemon, for kernels with the legacy daemon driver such as Debian's 6.1); the machine keeps it across restarts until `net disconnect`.",
  options: [
    { name: 'ip', type: 'string', value: 'A|auto|none', description: 'address (default: auto)' },
    {
      name: 'mac',
      type: 'string',
      value: 'M',
      description: 'MAC address (default: derived from machine and NIC)',
    },
    {
      name: 'transport',
      type: 'string',
      value: 'l2tpv3|daemon',
      description: "how the kernel reaches the switch (default l2tpv3; daemon needs Debian's 6.1 kernel)",
    },
  ],
  async run(args, ctx) {
    const [net, machine, ...extra] = args.positionals;
    if (!net || !machine || extra.length > 0)
      throw new UmlError('USAGE', 'give the network and the machine', { hint: 'umlkit net connect lab web' });
    const ip = stringOption(args.values, 'ip');
    const mac = stringOption(args.values, 'mac');
    const transport = stringOption(args.values, 'transport');
    // Same checks as --net NET,ip=..,mac=..,transport=..
    const nic = parseNicSpec(
      [
        net,
        ...(ip ? [`ip=${ip}`] : []),
        ...(mac ? [`mac=${mac}`] : []),
        ...(transport ? [`transport=${transport}`] : []),
      ].join(','),
    );
    if (nic.kind !== 'switch')
      throw new UmlError('INVALID_NET_SPEC', `\`${net}\` is not a network from \`net create\``, {
        hint: 'umlkit net ls',
      });
    const r = await connectMachine(resolvePaths(ctx.env), net, machine, {
      ...(ip ? { ip: nic.ip } : {}),
      ...(nic.mac ? { mac: nic.mac } : {}),
      ...(nic.transport ? { transport: nic.transport } : {}),
      env: ctx.env,
    });
    ctx.stdout.write(`${machine} ${r.device} connected to ${net}${r.ip ? ` (${r.ip})` : ''}\n`);
    return 0;
  },
};
