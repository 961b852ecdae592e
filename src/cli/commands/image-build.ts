// `umlkit image build NAME`: build a root image into the cache (content-hashed, reused when unchanged).
import { UmlError } from '../../core/errors.ts';
import { buildImage, KNOWN_IMAGES } from '../../host/image/images.ts';
import { resolvePaths } from '../../host/paths.ts';
import type { Command } from '../command.ts';
import { interruptible } from '../interruptible.ts';
import { createProgress } from '../progress.ts';

export const command: Command = {
  name: 'image build',
  summary: 'build a root filesystem image (busybox) into your cache',
  usage: 'umlkit image build [NAME] [--force]',
  description: `Recipes: ${KNOWN_IMAGES.join(', ')}. No root: the image is written by mke2fs -d from a staging tree.`,
  options: [
    { name: 'force', type: 'boolean', description: 'rebuild even when the cached image is up to date' },
  ],
  examples: ['umlkit image build busybox'],
  async run(args, ctx) {
    if (args.positionals.length > 1)
      throw new UmlError('USAGE', 'give at most one image name', { hint: 'umlkit image build busybox' });
    const name = args.positionals[0] ?? 'busybox';
    const progress = createProgress(ctx.stderr, `image ${name}`);
    // Ctrl-C stops the build, which removes its staging tree and temporary image before exiting.
    const record = await interruptible((signal) =>
      buildImage(
        name,
        resolvePaths(ctx.env),
        ctx.env,
        (s, f) => progress.update(s, f),
        args.values.force === true,
        signal,
      ),
    );
    progress.done();
    ctx.stdout.write(`${record.name}\t${record.path}\n`);
    return 0;
  },
};
