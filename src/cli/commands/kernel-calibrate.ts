// `umlkit kernel calibrate [NAME|PATH]`: boot a kernel once to measure its lpj and test its seccomp mode on
// this host; later boots of it get `lpj=` (and `seccomp=on`) automatically.
import { UmlError } from '../../core/errors.ts';
import { resolveKernel } from '../../host/kernel.ts';
import { resolvePaths } from '../../host/paths.ts';
import { calibrateKernel } from '../../machine/kernel-calibrate.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../parse-args.ts';
import { resolveImage } from '../resolve-image.ts';

export const command: Command = {
  name: 'kernel calibrate',
  summary: 'measure a kernel once so its later boots skip the delay-loop calibration',
  usage: 'umlkit kernel calibrate [NAME|PATH] [--image NAME|PATH]',
  description:
    'Boots the kernel (default: the one `run` would use) with `dmesg`, records the lpj it measured and whether its seccomp mode works here, in ~/.cache/umlkit/kernel-calibration.json. `kernel build` does this itself.',
  options: [
    { name: 'image', type: 'string', value: 'NAME|PATH', description: 'image to boot (default busybox)' },
  ],
  async run(args, ctx) {
    if (args.positionals.length > 1) throw new UmlError('USAGE', 'give at most one kernel');
    const paths = resolvePaths(ctx.env);
    const kernel = resolveKernel(args.positionals[0], paths, ctx.env);
    const image = await resolveImage(stringOption(args.values, 'image'), paths, ctx);
    const { calibration, bootMs } = await calibrateKernel(kernel, image, paths);
    ctx.stdout.write(
      `${kernel.path}: lpj=${calibration.lpj ?? 'not reported'}${calibration.seccomp ? ` seccomp=${calibration.seccomp}` : ''} (boot without them: ${Math.round(bootMs)} ms)\n`,
    );
    return 0;
  },
};
