// `umlkit logs NAME [-f] [--tail N]`: the machine's console log (bounded and rotated by its supervisor).
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { UmlError } from '../../core/errors.ts';
import { machineFiles, readSpec } from '../../host/machine-store.ts';
import { resolvePaths } from '../../host/paths.ts';
import { readLogTail } from '../../host/rotating-log.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../parse-args.ts';

export const command: Command = {
  name: 'logs',
  summary: "print a machine's console log",
  usage: 'umlkit logs NAME [-f] [--tail N]',
  options: [
    { name: 'follow', short: 'f', type: 'boolean', description: 'keep printing new output (Ctrl-C to stop)' },
    { name: 'tail', type: 'string', value: 'N', description: 'only the last N lines' },
  ],
  async run(args, ctx) {
    const [name] = args.positionals;
    if (!name) throw new UmlError('USAGE', 'give a machine name', { hint: 'umlkit logs NAME' });
    const paths = resolvePaths(ctx.env);
    readSpec(paths, name);
    const file = machineFiles(paths, name).console;
    const tailArg = stringOption(args.values, 'tail');
    const tail = tailArg === undefined ? undefined : Number(tailArg);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) {
      throw new UmlError('USAGE', `--tail \`${tailArg}\` is not a line count`, { hint: 'e.g. --tail 50' });
    }
    let text = existsSync(file) ? readLogTail(file, 2 * 1024 * 1024).toString('utf8') : '';
    if (tail !== undefined) {
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      text = lines.slice(-tail).join('\n') + (lines.length ? '\n' : '');
    }
    ctx.stdout.write(text);
    if (!args.values.follow) return 0;
    let offset = existsSync(file) ? statSync(file).size : 0;
    const stop = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    for (;;) {
      const done = await Promise.race([
        stop.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 200)),
      ]);
      if (done) return 0;
      if (!existsSync(file)) continue;
      const size = statSync(file).size;
      if (size < offset) offset = 0; // rotated
      if (size === offset) continue;
      const fh = await open(file, 'r');
      const buf = Buffer.alloc(size - offset);
      await fh.read(buf, 0, buf.length, offset);
      await fh.close();
      offset = size;
      ctx.stdout.write(buf);
    }
  },
};
