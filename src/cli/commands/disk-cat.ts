// `umlkit disk cat IMAGE:/FILE`: print a file inside a disk image, from the host.
import { resolve } from 'node:path';
import { UmlError } from '../../core/errors.ts';
import { parseImagePath, readDiskFile } from '../../host/disk/disk-read.ts';
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'disk cat',
  summary: 'print a file inside a disk image, from the host',
  usage: 'umlkit disk cat IMAGE:/FILE',
  options: [],
  examples: ['umlkit disk cat data.ext4:/foo.txt'],
  async run(args, ctx) {
    const [spec] = args.positionals;
    if (!spec || args.positionals.length > 1)
      throw new UmlError('USAGE', 'give one IMAGE:/FILE', { hint: 'umlkit disk cat data.ext4:/foo.txt' });
    const { image, inner } = parseImagePath(spec);
    ctx.stdout.write(await readDiskFile(resolve(ctx.cwd, image), inner, ctx.env));
    return 0;
  },
};
