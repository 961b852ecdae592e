// `umlkit kernel build`: a UML kernel from a source tree (the user's or Debian's linux-source-X), cached by
// the hash of what went in, then booted once to check it and to calibrate its boot options on this host.
import { UmlError } from '../../core/errors.ts';
import { KERNEL_PROFILES, type KernelProfile } from '../../core/kernel-build.ts';
import { probeKernel } from '../../host/kernel.ts';
import { type BuildProgress, type BuildSource, buildKernel } from '../../host/kernel-build.ts';
import { setDefaultKernel } from '../../host/kernel-store.ts';
import { resolvePaths } from '../../host/paths.ts';
import { calibrateKernel } from '../../machine/kernel-calibrate.ts';
import type { Command } from '../command.ts';
import { listOption, stringOption } from '../parse-args.ts';
import { createProgress } from '../progress.ts';
import { resolveImage } from '../resolve-image.ts';

export const command: Command = {
  name: 'kernel build',
  summary: 'build a UML kernel from source (yours or Debian linux-source-X) into the cache',
  usage:
    'umlkit kernel build [--source DIR | --version X|newest] [--profile fast|full|debug] [--config-fragment FILE]... [--patch FILE]... [--jobs N]',
  description: [
    'Builds out of tree (your tree is never written) with `make ARCH=um`, over defconfig (fast, debug) or',
    "Debian's UML config (full), then the profile's fragment (kernel/profiles/), then yours. The result is",
    'cached under a name from the hash of source version, profile, fragments and patches: the same build',
    'again is instant (a --source tree is rebuilt incrementally each time). Then the kernel boots once to',
    'prove it works here and to measure its lpj. Prints NAME<TAB>PATH. See docs/kernels.md.',
  ].join('\n'),
  options: [
    { name: 'source', type: 'string', value: 'DIR', description: 'build your own kernel tree (out of tree)' },
    {
      name: 'version',
      type: 'string',
      value: 'X',
      description: "Debian's linux-source-X (default 6.1); `newest` = sid's newest",
    },
    {
      name: 'suite',
      type: 'string',
      value: 'SUITE',
      description: 'take linux-source-X from this Debian suite (private apt lists), e.g. sid',
    },
    { name: 'profile', type: 'string', value: 'P', description: 'fast (default), full or debug' },
    {
      name: 'config-fragment',
      type: 'string',
      value: 'FILE',
      multiple: true,
      description: 'kconfig fragment applied after the profile',
    },
    {
      name: 'patch',
      type: 'string',
      value: 'FILE',
      multiple: true,
      description: 'patch -p1 applied to a Debian source',
    },
    { name: 'jobs', short: 'j', type: 'string', value: 'N', description: 'parallel jobs (default: CPUs)' },
    { name: 'force', type: 'boolean', description: 'rebuild even when the cache has this build' },
    { name: 'use', type: 'boolean', description: 'make it the default kernel for new machines' },
    { name: 'no-check', type: 'boolean', description: 'do not boot it once (no smoke test, no lpj)' },
    { name: 'print-path', type: 'boolean', description: 'print only the kernel path (for scripts)' },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'no progress output' },
  ],
  examples: [
    'umlkit kernel build                      # Debian 6.1, fast profile',
    'umlkit kernel build --version newest     # sid newest linux-source',
    'umlkit kernel build --source ~/linux --profile debug -j2',
    'umlkit run --kernel "$(umlkit kernel build --source . --print-path)" -- uname -r',
  ],
  async run(args, ctx) {
    const v = args.values;
    const dir = stringOption(v, 'source');
    const version = stringOption(v, 'version');
    if (dir && version) {
      throw new UmlError('USAGE', 'give --source or --version, not both', {
        hint: '--source DIR builds your tree; --version X fetches Debian linux-source-X',
      });
    }
    const profile = (stringOption(v, 'profile') ?? 'fast') as KernelProfile;
    if (!KERNEL_PROFILES.includes(profile)) {
      throw new UmlError('USAGE', `--profile must be one of ${KERNEL_PROFILES.join(', ')}`, {
        hint: 'fast: boots in tens of ms; full: close to Debian; debug: for gdb',
      });
    }
    const jobsText = stringOption(v, 'jobs');
    const jobs = jobsText === undefined ? undefined : Number(jobsText);
    if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0 && jobs <= 256)) {
      throw new UmlError('USAGE', `--jobs must be a whole number from 1 to 256`, { hint: 'e.g. --jobs 2' });
    }
    const suite = stringOption(v, 'suite');
    const source: BuildSource = dir
      ? { kind: 'tree', dir }
      : { kind: 'debian', version: version ?? '6.1', ...(suite ? { suite } : {}) };
    const paths = resolvePaths(ctx.env);
    const quiet = v.quiet === true || v['print-path'] === true;
    const progress = createProgress(ctx.stderr, 'kernel build', quiet);
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let lastShown = -1;
    const show = (p: BuildProgress): void => {
      if (p.phase !== 'compile' || !p.expected) {
        progress.update(p.message, phaseStart(p.phase));
        return;
      }
      const f = Math.min(0.99, (p.steps ?? 0) / p.expected);
      const pct = Math.floor(f * 100);
      // On a terminal every step redraws the bar; in a log, one line per 10%.
      if (ctx.stderr.isTTY) progress.update(`${p.steps}/~${p.expected} ${p.message}`, 0.05 + f * 0.9);
      else if (Math.floor(pct / 10) !== lastShown) {
        lastShown = Math.floor(pct / 10);
        progress.update(`compiling, ${lastShown * 10}%`, f);
      }
    };
    try {
      const result = await buildKernel(
        {
          source,
          profile,
          fragments: listOption(v, 'config-fragment'),
          patches: listOption(v, 'patch'),
          ...(jobs ? { jobs } : {}),
          force: v.force === true,
          signal: abort.signal,
          onProgress: show,
        },
        paths,
        ctx.env,
      );
      const k = result.kernel;
      progress.done(
        result.cached
          ? `${k.name} is already built (${k.manifest.builtAt})`
          : `built ${k.name} in ${k.manifest.buildSeconds} s; log ${result.logPath}`,
      );
      if (v['no-check'] !== true) {
        const image = await resolveImage(undefined, paths, ctx);
        const check = createProgress(ctx.stderr, 'kernel check', quiet);
        check.update('booting it once (smoke test, lpj calibration)', 0.5);
        const { calibration, bootMs } = await calibrateKernel(probeKernel(k.path, 'cache'), image, paths);
        check.done(
          `boots here in ${Math.round(bootMs)} ms; lpj=${calibration.lpj ?? '?'}${calibration.seccomp ? `; seccomp mode ${calibration.seccomp}` : ''}`,
        );
      }
      if (v.use === true) setDefaultKernel(paths, k.path);
      ctx.stdout.write(v['print-path'] === true ? `${k.path}\n` : `${k.name}\t${k.path}\n`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

const phaseStart = (phase: BuildProgress['phase']): number =>
  phase === 'source' ? 0.01 : phase === 'configure' ? 0.03 : phase === 'install' ? 0.97 : 0.05;
