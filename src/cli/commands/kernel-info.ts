// `umlkit kernel info [NAME|PATH]`: version, where it came from, its config summary, seccomp mode and
// time-travel capability, and the boot options umlkit adds for it on this host.
import { spawnSync } from 'node:child_process';
import { UmlError } from '../../core/errors.ts';
import { configSummary, parseDotConfig, SUMMARY_SYMBOLS } from '../../core/kernel-config.ts';
import { resolveKernel } from '../../host/kernel.ts';
import { kernelBootArgs, readCalibration } from '../../host/kernel-boot-args.ts';
import { kernelFeatures } from '../../host/kernel-features.ts';
import { findStoredKernel } from '../../host/kernel-store.ts';
import { resolvePaths } from '../../host/paths.ts';
import { type Command, JSON_OPTION } from '../command.ts';
import { renderTable } from '../output.ts';

/** A kernel's config when it carries one (CONFIG_IKCONFIG: `--showconfig`), for kernels we did not build. */
function embeddedConfig(path: string): Record<string, string> | undefined {
  const r = spawnSync(path, ['--showconfig'], { encoding: 'utf8', timeout: 10_000, env: {} });
  return r.status === 0 && r.stdout.includes('CONFIG_') ? configSummary(parseDotConfig(r.stdout)) : undefined;
}

export const command: Command = {
  name: 'kernel info',
  summary: 'show what a kernel is, where it came from and what it can do',
  usage: 'umlkit kernel info [NAME|PATH] [--json]',
  options: [JSON_OPTION],
  async run(args, ctx) {
    if (args.positionals.length > 1) throw new UmlError('USAGE', 'give at most one kernel');
    const paths = resolvePaths(ctx.env);
    const kernel = resolveKernel(args.positionals[0], paths, ctx.env);
    const stored = findStoredKernel(paths, kernel.path);
    const features = kernelFeatures(kernel.path);
    const calibration = readCalibration(paths, kernel.path);
    const m = stored?.manifest;
    const summary = m?.summary ?? embeddedConfig(kernel.path);
    const info = {
      version: 1,
      name: stored?.name,
      path: kernel.path,
      kernelVersion: kernel.version,
      origin: m?.origin ?? (stored?.kind === 'debian' ? { kind: 'debian-binary' } : { kind: 'file' }),
      profile: m?.profile,
      fragments: m?.fragments,
      patches: m?.patches,
      builtAt: m?.builtAt,
      buildSeconds: m?.buildSeconds,
      compiler: m?.compiler,
      configWarnings: m?.configWarnings,
      linkage: features.isStatic ? 'static' : 'dynamic',
      seccompMode: features.seccompMode ? (calibration?.seccomp ?? 'supported, not tested here') : 'no',
      timeTravel: features.timeTravel,
      lpj: calibration?.lpj,
      bootArgs: kernelBootArgs(paths, kernel.path, ctx.env),
      config: summary,
    };
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify(info)}\n`);
      return 0;
    }
    const o = info.origin as Record<string, unknown>;
    const origin =
      o.kind === 'debian'
        ? `Debian ${o.package} ${o.version} (${o.suite})`
        : o.kind === 'tree'
          ? `tree ${o.path}${o.git ? ` at ${o.git}` : ''}`
          : o.kind === 'debian-binary'
            ? "Debian's user-mode-linux package (umlkit kernel install)"
            : 'a kernel file umlkit did not build';
    const rows: string[][] = [
      ['name', info.name ?? '-'],
      ['path', info.path],
      ['version', info.kernelVersion],
      ['origin', origin],
      ...(m
        ? [
            ['profile', m.profile],
            ['fragments', m.fragments.map((f) => f.name).join(', ')],
            ['patches', m.patches.map((p) => p.name).join(', ') || '-'],
            ['built', `${m.builtAt} in ${m.buildSeconds} s with -j${m.jobs}, ${m.compiler}`],
          ]
        : []),
      [
        'linkage',
        `${info.linkage}${features.isStatic ? '' : ' (the XSAVE shim applies on AVX-512/AMX hosts)'}`,
      ],
      ['seccomp mode', String(info.seccompMode)],
      ['time-travel', info.timeTravel ? 'yes (time-travel, time-travel=inf-cpu)' : 'no'],
      ['lpj here', info.lpj ? String(info.lpj) : 'not calibrated (`umlkit kernel calibrate`)'],
      ['boot args', info.bootArgs.join(' ') || '-'],
    ];
    if (summary) {
      for (const [sym, what] of SUMMARY_SYMBOLS)
        rows.push([`  ${what}`, `CONFIG_${sym}=${summary[sym] ?? 'n'}`]);
    }
    for (const w of m?.configWarnings ?? []) rows.push(['config warning', w]);
    ctx.stdout.write(renderTable(rows));
    return 0;
  },
};
