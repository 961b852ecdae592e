// `umlkit ls`: every machine with its derived status (never fails for a sick machine).
import { formatSize } from '../../core/units.ts';
import { resolvePaths } from '../../host/paths.ts';
import { listMachines } from '../../machine/lifecycle.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { machineJson } from '../machine-json.ts';
import { renderTable } from '../output.ts';

export const command: Command = {
  name: 'ls',
  summary: 'list machines and their status',
  usage: 'umlkit ls [--json]',
  description:
    'Status is derived each time from the state dir and the live processes: created, starting, running, paused, stopping, stopped, crashed (with its reason) or broken (with its problems).',
  options: [JSON_OPTION],
  async run(args, ctx) {
    const machines = listMachines(resolvePaths(ctx.env));
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify({ version: 1, machines: machines.map(machineJson) })}\n`);
      return 0;
    }
    if (machines.length === 0) {
      ctx.stdout.write('no machines; create one with `umlkit create NAME`\n');
      return 0;
    }
    ctx.stdout.write(
      renderTable([
        ['NAME', 'STATUS', 'MEMORY', 'OVERLAY', 'DETAIL'],
        ...machines.map((m) => [
          m.name,
          m.status,
          m.spec ? formatSize(m.spec.memoryBytes) : '?',
          m.overlayBytesUsed !== undefined ? formatSize(m.overlayBytesUsed) : '?',
          [m.reason, ...m.problems].filter(Boolean).join('; '),
        ]),
      ]),
    );
    return 0;
  },
};
