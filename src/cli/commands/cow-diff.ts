// `umlkit cow diff`: which parts of the disk an overlay changed, and for ext2/3/4 which files.
import { formatSize } from '../../core/units.ts';
import { diffOverlay } from '../../host/cow/diff.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { cowPositionals } from '../cow-args.ts';

const MAX_EXTENT_LINES = 20;

export const command: Command = {
  name: 'cow diff',
  summary: 'list the blocks, and for ext4 the files, an overlay changed',
  usage: 'umlkit cow diff OVERLAY [--blocks] [--json]',
  description: [
    'Reads base + overlay without writing either. Files are found by comparing the inode records the overlay',
    "rewrote with the base's, so a file is listed as added, removed or modified; an inode whose only change",
    'is its access time is counted, not listed. Disks without an ext filesystem get the byte ranges only.',
  ].join('\n'),
  options: [
    { name: 'blocks', type: 'boolean', description: 'list the byte ranges only; skip the filesystem' },
    JSON_OPTION,
  ],
  examples: [
    'umlkit cow diff web1.cow',
    'umlkit cow diff web1.cow --json | jq -r ".filesystem.files[].path"',
  ],
  async run(args, ctx) {
    const [overlay] = cowPositionals(args, ctx, ['OVERLAY'], 'diff');
    const d = diffOverlay(overlay as string, { files: args.values.blocks !== true });
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `${d.overlay} over ${d.base}: ${d.dirtySectors} sectors written (${formatSize(d.dirtySectors * 512)}) in ${d.extents.length} ranges`,
    ];
    for (const e of d.extents.slice(0, MAX_EXTENT_LINES))
      lines.push(`  bytes ${e.offset}-${e.offset + e.length - 1} (${formatSize(e.length)})`);
    if (d.extents.length > MAX_EXTENT_LINES)
      lines.push(`  … ${d.extents.length - MAX_EXTENT_LINES} more (see --json)`);
    if (args.values.blocks !== true) {
      if (!d.filesystem) lines.push('no ext2/3/4 filesystem found: files unknown');
      else {
        const fs = d.filesystem;
        lines.push(`files changed (ext, ${fs.blockSize}-byte blocks): ${fs.files.length}`);
        const mark = { added: 'A', removed: 'D', modified: 'M' } as const;
        for (const f of fs.files)
          lines.push(`  ${mark[f.change]} ${f.path}${f.type === 'dir' && f.path !== '/' ? '/' : ''}`);
        if (fs.accessedOnly) lines.push(`  (${fs.accessedOnly} more only had their access time updated)`);
        if (fs.unnamed) lines.push(`  (${fs.unnamed} changed inodes have no name in either view)`);
      }
    }
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
