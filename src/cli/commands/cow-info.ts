// `umlkit cow info`: what an overlay records, whether its base still matches, and how much it holds.
import { formatSize } from '../../core/units.ts';
import { inspectOverlay } from '../../host/cow/inspect.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { cowPositionals, stateDirOf } from '../cow-args.ts';
import { renderTable } from '../output.ts';

const iso = (s: number | null): string =>
  s === null ? '-' : `${new Date(s * 1000).toISOString().replace('.000Z', 'Z')} (${s})`;

export const command: Command = {
  name: 'cow info',
  summary: "show an overlay's header, base check and usage",
  usage: 'umlkit cow info OVERLAY [--json]',
  options: [JSON_OPTION],
  examples: ['umlkit cow info web1.cow', 'umlkit cow info web1.cow --json | jq .base.status'],
  async run(args, ctx) {
    const [overlay] = cowPositionals(args, ctx, ['OVERLAY'], 'info');
    const info = inspectOverlay(overlay as string, { stateDir: stateDirOf(ctx), cwd: ctx.cwd });
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    const b = info.base;
    const size = (n: number | null): string => (n === null ? '-' : `${n} (${formatSize(n)})`);
    const rows: string[][] = [
      ['field', 'value'],
      ['overlay', info.overlay],
      [
        'format',
        `COW v${info.version}${info.layout === 'v3-broken' ? ' (old 64-bit layout)' : ''}, ${info.byteOrder}-endian`,
      ],
      ['base', b.path],
      ['base status', b.status],
      ['base size', `recorded ${size(b.recordedSizeBytes)}, actual ${size(b.actualSizeBytes)}`],
      ['base mtime', `recorded ${iso(b.recordedMtime)}, actual ${iso(b.actualMtime)}`],
      ['sector size', String(info.sectorSize)],
      ['alignment', String(info.alignment)],
      ['bitmap at', String(info.bitmapOffset)],
      ['data at', String(info.dataOffset)],
      ['sectors written', `${info.dirtySectors} of ${info.sectors} (${formatSize(info.dirtyBytes)})`],
      ['file size', `${size(info.fileBytes)} apparent, ${formatSize(info.allocatedBytes)} on disk`],
      ['merge', info.mergeInterrupted ? 'INTERRUPTED: run `umlkit cow merge` again to finish it' : '-'],
      ['in use by', info.inUseBy.length ? info.inUseBy.join('; ') : '-'],
    ];
    ctx.stdout.write(renderTable(rows));
    return 0;
  },
};
