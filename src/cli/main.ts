// Entry of the CLI: argv in, exit code out. Never calls process.exit, writes only through the context.
import { isUmlError, quote, UmlError } from '../core/errors.ts';
import type { CliContext } from './command.ts';
import { COMMANDS, findCommand, groupCommands } from './commands.ts';
import { errorJson, renderError } from './output.ts';
import { parseCommandArgs, renderHelp } from './parse-args.ts';

const VERSION = '0.1.0';

function topHelp(): string {
  const visible = COMMANDS.filter((c) => !c.hidden);
  const width = Math.max(...visible.map((c) => c.name.length));
  return [
    'umlkit — run User Mode Linux machines as ordinary, unprivileged processes',
    '',
    'Usage: umlkit COMMAND [OPTIONS]',
    '',
    'Commands:',
    ...visible.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Start here:',
    '  umlkit doctor                 check the host',
    '  umlkit run -- uname -a        run a command in a fresh machine',
    '  umlkit run -it                interactive shell in a fresh machine',
    '  umlkit demo                   the seed walkthrough',
    '',
    'Run `umlkit COMMAND --help` for the options of a command.',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], ctx: CliContext): Promise<number> {
  const debug = ctx.env.UMLKIT_DEBUG === '1';
  const wantsJson = argv.includes('--json');
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      const target = argv[0] === 'help' ? argv.slice(1) : [];
      if (target.length > 0) return await main([...target, '--help'], ctx);
      ctx.stdout.write(topHelp());
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--version' || argv[0] === 'version') {
      ctx.stdout.write(`umlkit ${VERSION}\n`);
      return 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = groupCommands(argv[0] ?? '');
      if (group.length > 0) {
        const width = Math.max(...group.map((c) => c.name.length));
        const list = group.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
        const known = argv[1] === undefined || argv[1] === '--help' || argv[1] === '-h';
        if (known) {
          ctx.stdout.write(`umlkit ${argv[0]} commands:\n${list}\n`);
          return argv[1] === undefined ? 2 : 0;
        }
        throw new UmlError('USAGE', `unknown command ${quote(`${argv[0]} ${argv[1]}`)}`, {
          hint: `one of: ${group.map((c) => c.name).join(', ')}`,
        });
      }
      throw new UmlError('USAGE', `unknown command ${quote(argv[0])}`, {
        hint: 'run `umlkit --help` to list commands',
      });
    }
    const { command } = await found.entry.load();
    const args = parseCommandArgs(command, argv.slice(found.consumed));
    if (args.values.help) {
      ctx.stdout.write(renderHelp(command));
      return 0;
    }
    return await command.run(args, ctx);
  } catch (err) {
    ctx.stderr.write(wantsJson ? errorJson(err) : renderError(err, debug));
    return isUmlError(err) ? err.exitCode : 1;
  }
}
