// `umlkit kernel use NAME|PATH`: the kernel new machines boot when none is given.
import { UmlError } from '../../core/errors.ts';
import { probeKernel } from '../../host/kernel.ts';
import { findStoredKernel, setDefaultKernel } from '../../host/kernel-store.ts';
import { resolvePaths } from '../../host/paths.ts';
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'kernel use',
  summary: 'make a kernel the default for new machines',
  usage: 'umlkit kernel use NAME|PATH',
  description:
    'NAME is a kernel in the cache (`umlkit kernel ls`); PATH any UML kernel. $UMLKIT_KERNEL and the config file still take precedence.',
  options: [],
  examples: ['umlkit kernel use 6.1.192-fast', 'umlkit kernel use /usr/bin/linux.uml'],
  async run(args, ctx) {
    const [target, ...extra] = args.positionals;
    if (!target || extra.length > 0) {
      throw new UmlError('USAGE', 'give one kernel name or path', { hint: 'see `umlkit kernel ls`' });
    }
    const paths = resolvePaths(ctx.env);
    const kernel = probeKernel(findStoredKernel(paths, target)?.path ?? target, 'option');
    setDefaultKernel(paths, kernel.path);
    ctx.stdout.write(`default kernel: ${kernel.version} ${kernel.path}\n`);
    if (ctx.env.UMLKIT_KERNEL) {
      ctx.stderr.write('umlkit: note: $UMLKIT_KERNEL is set and still takes precedence\n');
    }
    return 0;
  },
};
