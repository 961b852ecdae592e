// `umlkit console NAME`: the machine's console on this terminal; Ctrl-] detaches, the machine runs on.
import { UmlError } from '../../core/errors.ts';
import { resolvePaths } from '../../host/paths.ts';
import { inspectMachine } from '../../machine/lifecycle.ts';
import { attachConsole } from '../../machine/supervisor-client.ts';
import type { Command } from '../command.ts';
import { releaseStdin } from '../release-stdin.ts';

export const command: Command = {
  name: 'console',
  summary: "attach to a running machine's console (Ctrl-] detaches)",
  usage: 'umlkit console NAME',
  description:
    'Shows the recent console output, then live output; what you type goes to the guest console (a login prompt on the busybox image). Re-attach any time.',
  options: [],
  async run(args, ctx) {
    const [name] = args.positionals;
    if (!name) throw new UmlError('USAGE', 'give a machine name', { hint: 'umlkit console NAME' });
    const info = inspectMachine(resolvePaths(ctx.env), name);
    if (info.status !== 'running' && info.status !== 'paused') {
      throw new UmlError('WRONG_STATE', `machine \`${name}\` is ${info.status}`, {
        hint: `start it: \`umlkit start ${name}\`; past output: \`umlkit logs ${name}\``,
      });
    }
    const stdin = ctx.stdin as NodeJS.ReadStream;
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      ctx.stderr.write(`umlkit: attached to ${name}'s console; Ctrl-] detaches\r\n`);
    }
    try {
      const how = await attachConsole(info.files.socket, name, { stdin: ctx.stdin, stdout: ctx.stdout });
      ctx.stderr.write(
        how === 'detached'
          ? `\r\numlkit: detached from ${name} (still running)\r\n`
          : `\r\numlkit: ${name}'s console closed\r\n`,
      );
      return 0;
    } finally {
      if (stdin.isTTY) stdin.setRawMode(false);
      releaseStdin(ctx);
    }
  },
};
