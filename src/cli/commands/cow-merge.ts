// `umlkit cow merge`: write an overlay's sectors into its base in place (like `uml_moo -d`).
import { formatSize } from '../../core/units.ts';
import { mergeOverlay } from '../../host/cow/merge.ts';
import type { Command } from '../command.ts';
import { byteProgress, cowPositionals, stateDirOf } from '../cow-args.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'cow merge',
  summary: "write an overlay's changes into its base, in place",
  usage: 'umlkit cow merge OVERLAY [--base BASE]',
  description: [
    'The one command that writes a base. It checks the header and that the base is unchanged since the',
    'overlay was made, refuses while any machine holds either file, then copies the written sectors.',
    'The base then has a new mtime, so every OTHER overlay of it stops matching (as with uml_moo -d).',
    'If interrupted, the base is half merged: run the same command again to finish (docs/cow.md).',
    'The overlay is left as it is; delete it once the merge is done.',
  ].join('\n'),
  options: [
    {
      name: 'base',
      type: 'string',
      value: 'BASE',
      description: "merge into BASE instead of the header's path (it must still match)",
    },
  ],
  examples: ['umlkit cow merge web1.cow'],
  async run(args, ctx) {
    const [overlay] = cowPositionals(args, ctx, ['OVERLAY'], 'merge');
    const base = stringOption(args.values, 'base');
    const progress = byteProgress(ctx, 'merge');
    const r = await mergeOverlay(overlay as string, {
      stateDir: stateDirOf(ctx),
      ...(base ? { basePath: base } : {}),
      onProgress: (done, total) => progress(done * 512, total * 512),
    });
    ctx.stdout.write(
      r.sectors === 0
        ? `nothing to merge: ${overlay} holds no written sectors; ${r.basePath} is unchanged\n`
        : `merged ${r.sectors} sectors (${formatSize(r.bytes)}) into ${r.basePath} in ${Math.round(r.elapsedMs)} ms${r.resumed ? ' (finished an interrupted merge)' : ''}; other overlays of it are now invalid\n`,
    );
    return 0;
  },
};
