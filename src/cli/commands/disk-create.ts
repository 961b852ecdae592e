// `umlkit disk create`: a new disk image, optionally filled from a host directory.
import { resolve } from 'node:path';
import { UmlError } from '../../core/errors.ts';
import { formatSize, parseSize } from '../../core/units.ts';
import { createDisk } from '../../host/disk/disk-create.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'disk create',
  summary: 'create a disk image, optionally filled from a host directory',
  usage: 'umlkit disk create PATH --size SIZE [--fs ext4|ext3|ext2|raw] [--from DIR] [--label L] [--force]',
  description:
    'No root needed: the filesystem is written by mke2fs straight into the file. Attach it with `--disk PATH`.',
  options: [
    { name: 'size', type: 'string', value: 'SIZE', description: 'size, e.g. 100M or 2G (required)' },
    {
      name: 'fs',
      type: 'string',
      value: 'FS',
      description: 'ext4 (default), ext3, ext2, or raw (sparse, no filesystem)',
    },
    {
      name: 'from',
      type: 'string',
      value: 'DIR',
      description: 'copy this host directory into the new filesystem',
    },
    { name: 'label', type: 'string', value: 'LABEL', description: 'filesystem label' },
    { name: 'force', type: 'boolean', description: 'replace an existing file' },
  ],
  examples: [
    'umlkit disk create data.ext4 --size 100M',
    'umlkit disk create site.ext4 --size 64M --from ./public',
  ],
  async run(args, ctx) {
    const [path, ...extra] = args.positionals;
    if (!path || extra.length > 0)
      throw new UmlError('USAGE', 'give exactly one PATH', {
        hint: 'umlkit disk create data.ext4 --size 100M',
      });
    const size = stringOption(args.values, 'size');
    if (!size) throw new UmlError('USAGE', '--size is required', { hint: 'e.g. --size 100M' });
    const sizeBytes = parseSize(size, '--size');
    const abs = resolve(ctx.cwd, path);
    const fromDir = stringOption(args.values, 'from');
    const fs = stringOption(args.values, 'fs') ?? 'ext4';
    const label = stringOption(args.values, 'label');
    await createDisk(
      {
        path: abs,
        sizeBytes,
        fs,
        ...(fromDir ? { fromDir: resolve(ctx.cwd, fromDir) } : {}),
        ...(label ? { label } : {}),
        force: args.values.force === true,
      },
      ctx.env,
    );
    ctx.stdout.write(`created ${abs} (${formatSize(sizeBytes)}, ${fs})\n`);
    return 0;
  },
};
