// `umlkit doctor`: can this host run machines? Every check with what to do about it.
import { runDoctor } from '../../host/doctor.ts';
import { resolvePaths } from '../../host/paths.ts';
import { type Command, JSON_OPTION } from '../command.ts';

export const command: Command = {
  name: 'doctor',
  summary: 'check that this host can run machines, and say how to fix what is missing',
  usage: 'umlkit doctor [--json]',
  description: 'Exits 0 when machines can run here (warnings allowed), 1 otherwise.',
  options: [JSON_OPTION],
  async run(args, ctx) {
    const checks = runDoctor(resolvePaths(ctx.env), ctx.env);
    const failed = checks.filter((c) => !c.ok && !c.warning);
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify({ version: 1, ok: failed.length === 0, checks })}\n`);
    } else {
      for (const c of checks) {
        const mark = c.ok ? 'ok  ' : c.warning ? 'warn' : 'FAIL';
        ctx.stdout.write(`${mark}  ${c.name}: ${c.detail}\n`);
        if (!c.ok && c.fix) ctx.stdout.write(`      fix: ${c.fix}\n`);
      }
      ctx.stdout.write(
        failed.length === 0
          ? 'this host can run umlkit machines\n'
          : `${failed.length} problem(s) to fix before machines can run\n`,
      );
    }
    return failed.length === 0 ? 0 : 1;
  },
};
