// `umlkit image rm NAME...`: remove cached images; every name is tried and every error reported.
import { UmlError } from '../../core/errors.ts';
import { removeImage } from '../../host/image/images.ts';
import { resolvePaths } from '../../host/paths.ts';
import type { Command } from '../command.ts';
import { renderError } from '../output.ts';

export const command: Command = {
  name: 'image rm',
  summary: 'remove cached images',
  usage: 'umlkit image rm NAME...',
  options: [],
  async run(args, ctx) {
    if (args.positionals.length === 0)
      throw new UmlError('USAGE', 'give at least one image name', { hint: 'see `umlkit image ls`' });
    const paths = resolvePaths(ctx.env);
    let failed = 0;
    for (const name of args.positionals) {
      try {
        const rec = removeImage(paths, name);
        ctx.stdout.write(`removed ${rec.name} (${rec.path})\n`);
      } catch (e) {
        failed++;
        ctx.stderr.write(renderError(e, false));
      }
    }
    return failed > 0 ? 1 : 0;
  },
};
