// What the `umlkit cow …` verbs share: positional checks, the state dir, and a progress bar on a terminal.
import { resolve } from 'node:path';
import { UmlError } from '../core/errors.ts';
import { formatSize } from '../core/units.ts';
import { resolvePaths } from '../host/paths.ts';
import type { CliContext, ParsedArgs } from './command.ts';
import { createProgress } from './progress.ts';

/** The positionals of a cow verb, resolved against the cwd; a wrong count is a usage error. */
export function cowPositionals(
  args: ParsedArgs,
  ctx: CliContext,
  names: readonly string[],
  verb: string,
): string[] {
  if (args.positionals.length !== names.length) {
    throw new UmlError(
      'USAGE',
      `\`umlkit cow ${verb}\` takes ${names.join(' and ')}, got ${args.positionals.length} argument${args.positionals.length === 1 ? '' : 's'}`,
      { hint: `see \`umlkit cow ${verb} --help\`` },
    );
  }
  return args.positionals.map((p) => resolve(ctx.cwd, p));
}

export const stateDirOf = (ctx: CliContext): string => resolvePaths(ctx.env).stateDir;

/** A bar on stderr when it is a terminal; nothing otherwise (logs want the final line only). */
export function byteProgress(ctx: CliContext, title: string): (done: number, total: number) => void {
  if (!ctx.stderr.isTTY) return () => {};
  const bar = createProgress(ctx.stderr, title);
  return (done, total) => {
    if (done >= total) bar.done();
    else bar.update(`${formatSize(done)} of ${formatSize(total)}`, total === 0 ? 1 : done / total);
  };
}
