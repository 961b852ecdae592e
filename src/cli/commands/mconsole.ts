// `umlkit mconsole TARGET CMD...`: one management-console command, printed exactly as uml_mconsole does.
import { UmlError } from '../../core/errors.ts';
import { joinWords } from '../../core/mconsole/uml-mconsole.ts';
import { parseDurationMs } from '../../core/units.ts';
import { resolvePaths } from '../../host/paths.ts';
import { MconsoleClient } from '../../mconsole/client.ts';
import { machineNameResolver } from '../../mconsole/machine-target.ts';
import { resolveMconsoleTarget, TARGET_RESOLVERS } from '../../mconsole/target.ts';
import { runUmlMconsoleLine } from '../../mconsole/uml-mconsole-session.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'mconsole',
  summary: "send a management-console command to a running UML (uml_mconsole's output and exit status)",
  usage: 'umlkit mconsole [OPTIONS] TARGET CMD [ARGS...]',
  description: [
    'TARGET is a machine name, an mconsole socket (<uml_dir>/<umid>/mconsole) or the umid directory holding it.',
    'CMD is any 6.1 mconsole command: version, help, halt, reboot, cad, sysrq KEY, config DEV[=SPEC],',
    "remove DEV, stop, go, log TEXT, proc FILE, stack PID; plus uml_mconsole's local commands",
    '(log -f FILE, mconsole-version, int). Prints `OK <text>` or `ERR <text>` and exits with the',
    "kernel's error number modulo 256 (e.g. 237 for -19, no such device).",
    'Unlike uml_mconsole, a machine that does not answer is an error after --timeout instead of a hang.',
  ].join('\n'),
  commandAfterPositionals: 1,
  options: [
    {
      name: 'timeout',
      type: 'string',
      value: 'DURATION',
      description: 'longest wait for each reply packet (default 5s)',
    },
  ],
  examples: [
    'umlkit mconsole web1 version',
    'umlkit mconsole ~/.uml/web1 version',
    'umlkit mconsole /tmp/u/web1/mconsole config ubdb=data.img',
    'umlkit mconsole /tmp/u/web1 sysrq s',
  ],
  async run(args, ctx) {
    const [name] = args.positionals;
    if (name === undefined || args.rest.length === 0) {
      throw new UmlError('USAGE', name === undefined ? 'no TARGET given' : 'no mconsole command given', {
        hint: 'e.g. `umlkit mconsole <uml_dir>/<umid> version`; `help` lists the commands',
      });
    }
    const timeout = stringOption(args.values, 'timeout');
    const target = resolveMconsoleTarget(name, ctx, [
      machineNameResolver(resolvePaths(ctx.env)),
      ...TARGET_RESOLVERS,
    ]);
    const client = new MconsoleClient(
      target.socketPath,
      timeout === undefined ? {} : { timeoutMs: parseDurationMs(timeout, '--timeout') },
    );
    try {
      return await runUmlMconsoleLine(client, target, joinWords(args.rest), {
        cwd: ctx.cwd,
        write: (bytes) => ctx.stdout.write(bytes),
        warn: (text) => ctx.stderr.write(text),
      });
    } finally {
      client.close();
    }
  },
};
