// `umlkit kernel ls`: every kernel umlkit can see, and which one it would boot.
import { isUmlError } from '../../core/errors.ts';
import { probeKernel, resolveKernel } from '../../host/kernel.ts';
import { listCachedKernels } from '../../host/kernel-install.ts';
import { resolvePaths } from '../../host/paths.ts';
import { findOnPath } from '../../host/tool.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { renderTable } from '../output.ts';

export const command: Command = {
  name: 'kernel ls',
  summary: 'list the kernels umlkit can use',
  usage: 'umlkit kernel ls [--json]',
  options: [JSON_OPTION],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    let chosen: string | undefined;
    try {
      chosen = resolveKernel(undefined, paths, ctx.env).path;
    } catch (e) {
      if (!isUmlError(e)) throw e;
    }
    const candidates = [
      ...listCachedKernels(paths).map((k) => ({ where: `cache:${k.name}`, path: k.path })),
      ...['linux.uml', 'linux'].flatMap((n) => {
        const p = findOnPath(n, ctx.env.PATH);
        return p ? [{ where: 'PATH', path: p }] : [];
      }),
    ];
    const rows = candidates.map((c) => {
      try {
        const k = probeKernel(c.path, 'path');
        return { ...c, path: k.path, version: k.version, default: k.path === chosen };
      } catch {
        return { ...c, version: 'not a usable UML kernel', default: false };
      }
    });
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify({ version: 1, kernels: rows })}\n`);
      return 0;
    }
    ctx.stdout.write(
      renderTable([
        ['DEFAULT', 'VERSION', 'WHERE', 'PATH'],
        ...rows.map((r) => [r.default ? '*' : '', r.version, r.where, r.path]),
      ]),
    );
    return 0;
  },
};
