// `umlkit create NAME`: a long-lived machine with its own overlay over a read-only image.
import { UmlError } from '../../core/errors.ts';
import { resolvePaths } from '../../host/paths.ts';
import { createMachine, startMachine } from '../../machine/lifecycle.ts';
import { reserveLeases } from '../../machine/net-lifecycle.ts';
import type { Command } from '../command.ts';
import { MACHINE_OPTIONS, readMachineOptions } from '../machine-options.ts';
import { NET_OPTIONS, readNetOptions } from '../net-options.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'create',
  summary: 'create a named machine (its overlay keeps its changes across restarts)',
  usage:
    'umlkit create NAME [--image NAME|PATH] [--mem SIZE] [--disk PATH[:ro]]... [--kernel PATH] [--start]',
  description:
    "The machine boots the image's own init (console: `umlkit console NAME`) with the umlkit agent beside it (`umlkit exec NAME -- CMD`).",
  options: [
    ...MACHINE_OPTIONS,
    ...NET_OPTIONS,
    { name: 'start', type: 'boolean', description: 'start it right away' },
    {
      name: 'on-reboot-loop',
      type: 'string',
      value: 'stop|restart',
      description: 'after more than 5 guest boots within 60 s: stop (default), or restart once, then stop',
    },
  ],
  examples: ['umlkit create web --mem 256M --disk www.ext4 --start', 'umlkit exec web -- uname -a'],
  async run(args, ctx) {
    const [name, ...extra] = args.positionals;
    if (!name || extra.length > 0)
      throw new UmlError('USAGE', 'give exactly one machine name', { hint: 'umlkit create NAME [options]' });
    const paths = resolvePaths(ctx.env);
    const opts = await readMachineOptions(args.values, paths, ctx);
    const net = readNetOptions(args.values, paths);
    const onRebootLoop = stringOption(args.values, 'on-reboot-loop') ?? 'stop';
    if (onRebootLoop !== 'stop' && onRebootLoop !== 'restart') {
      throw new UmlError('USAGE', `--on-reboot-loop \`${onRebootLoop}\` is neither stop nor restart`, {
        hint: 'use --on-reboot-loop stop or --on-reboot-loop restart',
      });
    }
    createMachine(paths, {
      name,
      imagePath: opts.imagePath,
      memoryBytes: opts.memoryBytes,
      disks: opts.disks,
      ...(opts.kernelPath ? { kernelPath: opts.kernelPath } : {}),
      ...(net.nics.length ? { nets: net.nics, publish: net.forwards } : {}),
      sandbox: opts.sandbox,
      shares: opts.shares,
      onRebootLoop,
    });
    if (net.nics.length) await reserveLeases(paths, name, net.nics, ctx.env);
    if (args.values.start) {
      await startMachine(paths, name, { env: ctx.env });
      ctx.stdout.write(`${name} running\n`);
    } else {
      ctx.stdout.write(`${name} created\n`);
    }
    return 0;
  },
};
