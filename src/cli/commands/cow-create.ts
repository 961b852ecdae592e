// `umlkit cow create`: a new, empty overlay over a base image, instantly and sparsely.
import { UmlError } from '../../core/errors.ts';
import { formatSize } from '../../core/units.ts';
import { createOverlay } from '../../host/cow/create.ts';
import type { Command } from '../command.ts';
import { cowPositionals, stateDirOf } from '../cow-args.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'cow create',
  summary: 'create a copy-on-write overlay over a base image (instant, sparse)',
  usage: 'umlkit cow create OVERLAY --base BASE',
  description: [
    'Writes a UML COW overlay (version 3, as the kernel and uml_mkcow write it) that records the base',
    "path, size and mtime. The base is never written through it: a machine's writes land in the overlay.",
    'Boot it with `ubd0=OVERLAY,BASE`. Any later change to the base invalidates the overlay.',
  ].join('\n'),
  options: [
    { name: 'base', type: 'string', value: 'BASE', description: 'the read-only image the overlay sits on' },
  ],
  examples: ['umlkit cow create web1.cow --base debian.img'],
  async run(args, ctx) {
    const [overlay] = cowPositionals(args, ctx, ['OVERLAY'], 'create');
    const base = stringOption(args.values, 'base');
    if (!base)
      throw new UmlError('USAGE', '`umlkit cow create` needs --base BASE', {
        hint: 'e.g. `umlkit cow create web1.cow --base debian.img`',
      });
    const made = createOverlay(overlay as string, base, { stateDir: stateDirOf(ctx), cwd: ctx.cwd });
    ctx.stdout.write(
      `created ${made.overlayPath} over ${made.basePath} (${formatSize(made.header.sizeBytes)}, ${made.layout.sectors} sectors)\n`,
    );
    return 0;
  },
};
