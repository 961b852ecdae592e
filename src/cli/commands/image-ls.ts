// `umlkit image ls`: the cached images.
import { formatSize } from '../../core/units.ts';
import { listImages, sweepStaleBuilds } from '../../host/image/images.ts';
import { resolvePaths } from '../../host/paths.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { renderTable } from '../output.ts';

export const command: Command = {
  name: 'image ls',
  summary: 'list cached images',
  usage: 'umlkit image ls [--json]',
  options: [JSON_OPTION],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    sweepStaleBuilds(paths);
    const images = listImages(paths);
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify({ version: 1, images })}\n`);
      return 0;
    }
    if (images.length === 0) {
      ctx.stdout.write('no images yet; `umlkit image build busybox` makes the default one\n');
      return 0;
    }
    ctx.stdout.write(
      renderTable([
        ['NAME', 'HASH', 'SIZE', 'CREATED', 'PATH'],
        ...images.map((i) => [
          i.name,
          i.hash.slice(0, 12),
          formatSize(i.sizeBytes),
          i.createdAt.slice(0, 19),
          i.path,
        ]),
      ]),
    );
    return 0;
  },
};
