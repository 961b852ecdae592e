// `umlkit cow rebase`: point an overlay at its base's new location, after checking it is the same file.
import { UmlError } from '../../core/errors.ts';
import { rebaseOverlay } from '../../host/cow/rebase.ts';
import type { Command } from '../command.ts';
import { cowPositionals, stateDirOf } from '../cow-args.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'cow rebase',
  summary: 'point an overlay at a base that moved (size and mtime must match)',
  usage: 'umlkit cow rebase OVERLAY --base NEWPATH',
  description: [
    "Rewrites only the base path in the overlay's header. NEWPATH must have the size and mtime the overlay",
    'recorded: a copy made with `cp -p` or a `mv` keeps them; a changed base is refused.',
  ].join('\n'),
  options: [{ name: 'base', type: 'string', value: 'NEWPATH', description: 'where the base is now' }],
  examples: ['umlkit cow rebase web1.cow --base /srv/images/debian.img'],
  async run(args, ctx) {
    const [overlay] = cowPositionals(args, ctx, ['OVERLAY'], 'rebase');
    const base = stringOption(args.values, 'base');
    if (!base)
      throw new UmlError('USAGE', '`umlkit cow rebase` needs --base NEWPATH', {
        hint: 'e.g. `umlkit cow rebase web1.cow --base /srv/debian.img`',
      });
    const r = rebaseOverlay(overlay as string, base, { stateDir: stateDirOf(ctx), cwd: ctx.cwd });
    ctx.stdout.write(`${r.overlayPath}: base ${r.oldBasePath} → ${r.newBasePath}\n`);
    return 0;
  },
};
