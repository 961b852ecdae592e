// `umlkit kernel ls`: every kernel umlkit can see (built, installed from Debian, on PATH), and which one
// it would boot.
import { isUmlError } from '../../core/errors.ts';
import { probeKernel, resolveKernel } from '../../host/kernel.ts';
import { listStoredKernels } from '../../host/kernel-store.ts';
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
      ...listStoredKernels(paths).map((k) => ({
        name: k.name,
        where: k.kind === 'built' ? 'cache (built)' : 'cache (Debian)',
        path: k.path,
        profile: k.manifest?.profile ?? '-',
        origin:
          k.manifest?.origin.kind === 'debian'
            ? `${k.manifest.origin.package} ${k.manifest.origin.version}`
            : k.manifest?.origin.kind === 'tree'
              ? k.manifest.origin.path
              : 'user-mode-linux',
      })),
      ...['linux.uml', 'linux'].flatMap((n) => {
        const p = findOnPath(n, ctx.env.PATH);
        return p ? [{ name: '-', where: 'PATH', path: p, profile: '-', origin: p }] : [];
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
        ['DEFAULT', 'NAME', 'VERSION', 'PROFILE', 'WHERE', 'FROM', 'PATH'],
        ...rows.map((r) => [r.default ? '*' : '', r.name, r.version, r.profile, r.where, r.origin, r.path]),
      ]),
    );
    return 0;
  },
};
