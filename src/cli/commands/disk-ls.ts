// `umlkit disk ls IMAGE:/DIR`: list a directory inside a disk image from the host.
import { resolve } from 'node:path';
import { UmlError } from '../../core/errors.ts';
import { listDiskDir, parseImagePath } from '../../host/disk/disk-read.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { renderTable } from '../output.ts';

export const command: Command = {
  name: 'disk ls',
  summary: 'list a directory inside a disk image, from the host',
  usage: 'umlkit disk ls IMAGE:/DIR [--json]',
  options: [JSON_OPTION],
  examples: ['umlkit disk ls data.ext4:/', 'umlkit disk ls data.ext4:/etc --json'],
  async run(args, ctx) {
    const [spec] = args.positionals;
    if (!spec || args.positionals.length > 1)
      throw new UmlError('USAGE', 'give one IMAGE:/DIR', { hint: 'umlkit disk ls data.ext4:/' });
    const { image, inner } = parseImagePath(spec);
    const entries = (await listDiskDir(resolve(ctx.cwd, image), inner, ctx.env)).filter(
      (e) => e.name !== '.' && e.name !== '..',
    );
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify({ version: 1, image, path: inner, entries })}\n`);
      return 0;
    }
    ctx.stdout.write(
      renderTable([
        ['MODE', 'UID', 'GID', 'SIZE', 'NAME'],
        ...entries.map((e) => [
          `${e.type[0]}${e.mode}`,
          String(e.uid),
          String(e.gid),
          String(e.sizeBytes),
          e.type === 'dir' ? `${e.name}/` : e.name,
        ]),
      ]),
    );
    return 0;
  },
};
