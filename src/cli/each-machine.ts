// Verbs that take several machine names handle each one and report every error together.
import { UmlError } from '../core/errors.ts';
import type { CliContext } from './command.ts';
import { renderError } from './output.ts';

export async function forEachMachine(
  names: readonly string[],
  ctx: CliContext,
  verb: string,
  act: (name: string) => Promise<string | undefined>,
): Promise<number> {
  if (names.length === 0)
    throw new UmlError('USAGE', `give at least one machine name`, { hint: `umlkit ${verb} NAME...` });
  let worst = 0;
  for (const name of names) {
    try {
      const line = await act(name);
      if (line) ctx.stdout.write(`${line}\n`);
    } catch (e) {
      ctx.stderr.write(renderError(e, ctx.env.UMLKIT_DEBUG === '1'));
      worst = Math.max(worst, e instanceof UmlError ? e.exitCode : 1);
    }
  }
  return worst;
}
