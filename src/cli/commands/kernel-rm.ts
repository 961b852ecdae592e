// `umlkit kernel rm NAME...`: delete kernels from the cache (refused for the default and for kernels that
// machines were created with, unless --force).
import { quote, UmlError } from '../../core/errors.ts';
import { findStoredKernel, removeStoredKernel } from '../../host/kernel-store.ts';
import { resolvePaths } from '../../host/paths.ts';
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'kernel rm',
  summary: 'remove kernels from the cache',
  usage: 'umlkit kernel rm NAME... [--force]',
  options: [
    {
      name: 'force',
      type: 'boolean',
      description: 'also remove the default kernel and kernels machines use',
    },
  ],
  async run(args, ctx) {
    if (args.positionals.length === 0) {
      throw new UmlError('USAGE', 'give the kernels to remove', { hint: 'see `umlkit kernel ls`' });
    }
    const paths = resolvePaths(ctx.env);
    for (const name of args.positionals) {
      const k = findStoredKernel(paths, name);
      if (!k) {
        throw new UmlError('KERNEL_NOT_FOUND', `no kernel called ${quote(name)} in the cache`, {
          hint: 'see `umlkit kernel ls`',
        });
      }
      removeStoredKernel(paths, k, args.values.force === true);
      ctx.stdout.write(`removed ${k.name}\n`);
    }
    return 0;
  },
};
