// `umlkit cow commit`: flatten base + overlay into a new standalone image; neither input changes.
import { formatSize } from '../../core/units.ts';
import { commitOverlay } from '../../host/cow/commit.ts';
import type { Command } from '../command.ts';
import { byteProgress, cowPositionals, stateDirOf } from '../cow-args.ts';

export const command: Command = {
  name: 'cow commit',
  summary: 'flatten an overlay and its base into a new standalone image',
  usage: 'umlkit cow commit OVERLAY NEW_IMAGE',
  description: [
    'Writes base + overlay as one sparse image under a temporary name beside NEW_IMAGE and renames it into',
    'place when complete, so NEW_IMAGE is either absent or whole. The base and the overlay are not modified.',
  ].join('\n'),
  options: [],
  examples: ['umlkit cow commit web1.cow web1-snapshot.img'],
  async run(args, ctx) {
    const [overlay, output] = cowPositionals(args, ctx, ['OVERLAY', 'NEW_IMAGE'], 'commit');
    const r = await commitOverlay(overlay as string, output as string, {
      stateDir: stateDirOf(ctx),
      onProgress: byteProgress(ctx, 'commit'),
    });
    ctx.stdout.write(
      `wrote ${r.outputPath} (${formatSize(r.sizeBytes)}: ${r.basePath} plus ${r.dirtySectors} sectors of the overlay) in ${Math.round(r.elapsedMs)} ms\n`,
    );
    return 0;
  },
};
