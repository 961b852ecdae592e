// `umlkit demo`: the seed walkthrough, narrated; sets up a kernel and image first when they are missing.
import { resolve } from 'node:path';
import { isUmlError } from '../../core/errors.ts';
import { type Kernel, resolveKernel } from '../../host/kernel.ts';
import { installDebianKernel } from '../../host/kernel-install.ts';
import { resolvePaths } from '../../host/paths.ts';
import { runDemo } from '../../machine/demo.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../parse-args.ts';
import { createProgress } from '../progress.ts';
import { resolveImage } from '../resolve-image.ts';

export const command: Command = {
  name: 'demo',
  summary: 'the seed walkthrough: a disk written in a guest, read on the host',
  usage: 'umlkit demo [--dir DIR] [--kernel PATH]',
  description: [
    'Boots a machine from the busybox root image with a fresh 100 MiB ext4 data disk, mounts it in the guest,',
    "writes 'This is a UML test!' to /mnt/disk/foo.txt, shuts down cleanly, then reads foo.txt on the host.",
    'Exits 0 only if the host reads what the guest wrote. Fetches a kernel (no root) if none is found.',
  ].join('\n'),
  options: [
    {
      name: 'dir',
      type: 'string',
      value: 'DIR',
      description: 'keep data.ext4 in DIR (default: a temporary directory)',
    },
    { name: 'kernel', type: 'string', value: 'PATH', description: 'UML kernel to boot' },
  ],
  async run(args, ctx) {
    const paths = resolvePaths(ctx.env);
    const say = (line: string): void => {
      ctx.stdout.write(`${line}\n`);
    };
    let kernel: Kernel;
    try {
      kernel = resolveKernel(stringOption(args.values, 'kernel'), paths, ctx.env);
    } catch (e) {
      if (!isUmlError(e, 'KERNEL_NOT_FOUND') || stringOption(args.values, 'kernel')) throw e;
      say("0. no UML kernel found: fetching Debian's user-mode-linux into your cache (no root)");
      const progress = createProgress(ctx.stderr, 'kernel install');
      let n = 0;
      kernel = await installDebianKernel(paths, ctx.env, (l) => progress.update(l, Math.min(0.95, ++n / 12)));
      progress.done();
    }
    const imagePath = await resolveImage(undefined, paths, ctx);
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.on('SIGINT', onSignal);
    try {
      const dir = stringOption(args.values, 'dir');
      const result = await runDemo({
        kernel,
        imagePath,
        paths,
        env: ctx.env,
        say,
        signal: abort.signal,
        ...(dir ? { workDir: resolve(ctx.cwd, dir) } : {}),
      });
      say(result.ok ? 'demo: OK' : 'demo: FAILED');
      return result.ok ? 0 : 1;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
