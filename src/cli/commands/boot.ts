// `umlkit boot [IMAGE]`: boot the image's own init with the console on this terminal, until it powers off.
import { UmlError } from '../../core/errors.ts';
import { resolveKernel } from '../../host/kernel.ts';
import { resolvePaths } from '../../host/paths.ts';
import { runMachine } from '../../machine/run.ts';
import type { Command } from '../command.ts';
import { MACHINE_OPTIONS, readMachineOptions } from '../machine-options.ts';
import { releaseStdin } from '../release-stdin.ts';

export const command: Command = {
  name: 'boot',
  summary: "boot an image's own init with the console on this terminal",
  usage: 'umlkit boot [IMAGE] [--mem SIZE] [--disk PATH[:ro]]... [--kernel PATH] [--keep]',
  description: [
    'The foreground form of a machine, as in the seed walkthrough: the boot log and a login prompt',
    '(busybox image: user root, no password) on your terminal; `poweroff` in the guest ends it.',
    'The image is never written: changes go to an overlay, deleted at the end unless --keep.',
  ].join('\n'),
  options: [
    ...MACHINE_OPTIONS,
    { name: 'keep', type: 'boolean', description: 'keep the overlay and print where it is' },
  ],
  examples: ['umlkit boot', 'umlkit boot --disk data.ext4'],
  async run(args, ctx) {
    if (args.positionals.length > 1)
      throw new UmlError('USAGE', 'give at most one image', { hint: 'umlkit boot [IMAGE]' });
    const paths = resolvePaths(ctx.env);
    const values = args.positionals[0] ? { ...args.values, image: args.positionals[0] } : args.values;
    const opts = await readMachineOptions(values, paths, ctx);
    const kernel = resolveKernel(opts.kernelPath, paths, ctx.env);
    const stdin = ctx.stdin as NodeJS.ReadStream;
    // Raw: keys (Ctrl-C included) go to the guest's console, whose tty does the line editing.
    if (stdin.isTTY) stdin.setRawMode(true);
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    try {
      const result = await runMachine({
        kernel,
        imagePath: opts.imagePath,
        memoryBytes: opts.memoryBytes,
        disks: opts.disks,
        argv: [],
        env: [],
        workdir: '/',
        tty: false,
        bootTimeoutMs: 60_000,
        keep: args.values.keep === true,
        sandbox: opts.sandbox,
        shares: opts.shares,
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        paths,
        signal: abort.signal,
        console: { input: ctx.stdin, output: ctx.stdout },
      });
      if (result.keptOverlay) ctx.stderr.write(`umlkit: kept the overlay: ${result.keptOverlay}\n`);
      return result.exitCode;
    } finally {
      if (stdin.isTTY) stdin.setRawMode(false);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      releaseStdin(ctx);
    }
  },
};
