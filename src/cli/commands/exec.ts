// `umlkit exec NAME [-it] -- CMD`: run a command in a running machine, with run's stream semantics.
import { mergeEnv, parseEnvSpec } from '../../core/env-spec.ts';
import { UmlError } from '../../core/errors.ts';
import { resolvePaths } from '../../host/paths.ts';
import { describeFailure } from '../../machine/describe-failure.ts';
import { execInMachine } from '../../machine/lifecycle.ts';
import type { Command } from '../command.ts';
import { listOption, stringOption } from '../parse-args.ts';
import { releaseStdin } from '../release-stdin.ts';
import { attachTerminal } from '../terminal.ts';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const command: Command = {
  name: 'exec',
  summary: 'run a command in a running machine',
  usage: 'umlkit exec NAME [-i] [-t] [-e K=V]... [-w DIR] [--] CMD [ARGS...]',
  description: "Same semantics as `umlkit run`: separate stdout/stderr, stdin forwarded, CMD's exit code.",
  commandAfterPositionals: 1,
  options: [
    {
      name: 'env',
      short: 'e',
      type: 'string',
      value: 'K=V',
      multiple: true,
      description: 'set a variable (K alone copies the host value)',
    },
    {
      name: 'workdir',
      short: 'w',
      type: 'string',
      value: 'DIR',
      description: 'working directory in the guest (default /)',
    },
    {
      name: 'interactive',
      short: 'i',
      type: 'boolean',
      description: 'forward stdin even when it is a terminal',
    },
    { name: 'tty', short: 't', type: 'boolean', description: 'give CMD a terminal' },
  ],
  examples: ['umlkit exec web -- uname -a', 'umlkit exec -it web -- sh'],
  async run(args, ctx) {
    const [name] = args.positionals;
    const tty = args.values.tty === true;
    const interactive = args.values.interactive === true;
    const argv = args.rest.length > 0 ? [...args.rest] : tty && interactive ? ['/bin/sh', '-l'] : [];
    if (!name || argv.length === 0)
      throw new UmlError('USAGE', 'give a machine name and a command', { hint: 'umlkit exec NAME -- CMD' });
    if (tty && !(ctx.stdin.isTTY && ctx.stdout.isTTY))
      throw new UmlError('USAGE', '-t needs a terminal on stdin and stdout');
    const env = listOption(args.values, 'env').map((e) => {
      const entry = parseEnvSpec(e);
      return { name: entry.name, value: entry.value ?? ctx.env[entry.name] ?? '' };
    });
    const terminal = tty ? attachTerminal(ctx) : undefined;
    try {
      const handle = await execInMachine(
        resolvePaths(ctx.env),
        name,
        {
          argv,
          env: mergeEnv(
            { PATH: DEFAULT_PATH, HOME: '/root', TERM: tty ? (ctx.env.TERM ?? 'xterm') : 'dumb' },
            env,
          ),
          cwd: stringOption(args.values, 'workdir') ?? '/',
          tty,
          rows: terminal?.rows ?? 24,
          cols: terminal?.cols ?? 80,
        },
        {
          ...(interactive || !ctx.stdin.isTTY ? { stdin: ctx.stdin } : {}),
          stdout: ctx.stdout,
          stderr: tty ? ctx.stdout : ctx.stderr,
        },
      );
      const onResize = (): void =>
        handle.resize(
          (ctx.stdout as NodeJS.WriteStream).rows ?? 24,
          (ctx.stdout as NodeJS.WriteStream).columns ?? 80,
        );
      if (tty) (ctx.stdout as NodeJS.WriteStream).on('resize', onResize);
      const onSignal = (): void => handle.signal(2);
      process.on('SIGINT', onSignal);
      const exit = await handle.exit;
      process.off('SIGINT', onSignal);
      for (const f of exit.failures) ctx.stderr.write(describeFailure(f, argv[0] ?? ''));
      return exit.code;
    } finally {
      terminal?.restore();
      releaseStdin(ctx);
    }
  },
};
