// `umlkit kernel install`: fetch Debian's UML kernel into the cache, without root.
import { installDebianKernel, kernelInstallFailed } from '../../host/kernel-install.ts';
import { resolvePaths } from '../../host/paths.ts';
import type { Command } from '../command.ts';
import { createProgress } from '../progress.ts';

export const command: Command = {
  name: 'kernel install',
  summary: "fetch Debian's user-mode-linux kernel into your cache (no root)",
  usage: 'umlkit kernel install [--package NAME]',
  description: [
    'Downloads the package with apt-get download (private apt state when the system has no package lists),',
    'unpacks it with dpkg-deb -x into ~/.cache/umlkit/kernels/, checks that it runs, and makes it the default.',
  ].join('\n'),
  options: [
    {
      name: 'package',
      type: 'string',
      value: 'NAME',
      description: 'Debian package to fetch (default user-mode-linux)',
    },
  ],
  async run(args, ctx) {
    const progress = createProgress(ctx.stderr, 'kernel install');
    let steps = 0;
    const pkg = typeof args.values.package === 'string' ? args.values.package : 'user-mode-linux';
    const kernel = await installDebianKernel(
      resolvePaths(ctx.env),
      ctx.env,
      (line) => progress.update(line, Math.min(0.95, ++steps / 12)),
      pkg,
    ).catch(kernelInstallFailed);
    progress.done();
    ctx.stdout.write(`installed UML kernel ${kernel.version}: ${kernel.path}\n`);
    return 0;
  },
};
