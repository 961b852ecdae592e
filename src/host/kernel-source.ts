// Kernel source trees for `kernel build`: a user's own tree (checked, never modified), or Debian's
// linux-source-X package (installed, or fetched without root, from the system's suite or sid's private lists),
// unpacked once per version and patch set into the cache.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import type { HashedInput } from '../core/kernel-build.ts';
import { candidateVersion, fetchDebianPackage, searchPackageNames, suiteAptOptions } from './deb-fetch.ts';
import { kernelWorkDir } from './kernel-store.ts';
import type { HostPaths } from './paths.ts';
import { requireTool, runTool } from './tool.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface DebianSource {
  readonly package: string;
  readonly version: string;
  /** `installed` (dpkg has it), `system` (the host's apt lists) or a suite fetched through private lists. */
  readonly suite: string;
}

/** The suite searched when the host's own lists do not have the version asked for. */
export const NEWEST_SUITE = 'sid';

const compareVersions = (a: string, b: string): number => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

function installedVersion(pkg: string): string | undefined {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} syntax
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', pkg], { encoding: 'utf8' });
  const [status, version] = (r.stdout ?? '').split('\t');
  return r.status === 0 && status?.includes('install ok installed') && version ? version : undefined;
}

/**
 * Which Debian package and version `--version X` means. `X` is a kernel series (`6.1`), or `newest` for the
 * highest linux-source-X in sid. `suite` forces where to look.
 * @throws {UmlError} KERNEL_SOURCE_NOT_FOUND
 */
export async function resolveDebianSource(
  version: string,
  suite: string | undefined,
  paths: HostPaths,
  env: Env,
  onProgress: (line: string) => void,
): Promise<DebianSource> {
  const aptWork = join(kernelWorkDir(paths), 'apt');
  if (version === 'newest') {
    const opts = await suiteAptOptions(suite ?? NEWEST_SUITE, aptWork, env, onProgress);
    const series = (await searchPackageNames('^linux-source-[0-9]+\\.[0-9]+$', opts, env))
      .map((n) => n.replace('linux-source-', ''))
      .sort(compareVersions);
    const newest = series[series.length - 1];
    if (!newest) {
      throw new UmlError(
        'KERNEL_SOURCE_NOT_FOUND',
        `no linux-source package in ${quote(suite ?? NEWEST_SUITE)}`,
        {
          hint: 'name a series with --version, e.g. --version 6.1',
        },
      );
    }
    return resolveDebianSource(newest, suite ?? NEWEST_SUITE, paths, env, onProgress);
  }
  if (!/^\d+\.\d+$/.test(version)) {
    throw new UmlError('USAGE', `--version ${quote(version)} is not a kernel series`, {
      hint: 'give MAJOR.MINOR as Debian names its source packages (e.g. 6.1), or `newest`',
    });
  }
  const pkg = `linux-source-${version}`;
  if (!suite) {
    const installed = installedVersion(pkg);
    if (installed) return { package: pkg, version: installed, suite: 'installed' };
    const system = await candidateVersion(pkg, [], env);
    if (system) return { package: pkg, version: system, suite: 'system' };
  }
  const where = suite ?? NEWEST_SUITE;
  const opts = await suiteAptOptions(where, aptWork, env, onProgress);
  const found = await candidateVersion(pkg, opts, env);
  if (!found) {
    throw new UmlError(
      'KERNEL_SOURCE_NOT_FOUND',
      `Debian has no ${quote(pkg)} in this host's suites or ${quote(where)}`,
      {
        hint: 'list what there is with `apt-cache search ^linux-source-`, or build your own tree with --source DIR',
      },
    );
  }
  return { package: pkg, version: found, suite: where };
}

/** The upstream kernel version of a Debian source package version (6.1.192-3 → 6.1.192). */
export const upstreamVersion = (debianVersion: string): string =>
  debianVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '');

/**
 * The unpacked, patched tree of a Debian source package, made once and reused by every profile.
 * @throws {UmlError} KERNEL_SOURCE_NOT_FOUND, KERNEL_PATCH_FAILED
 */
export async function prepareDebianSource(
  src: DebianSource,
  patches: readonly (HashedInput & { readonly path: string })[],
  patchSetId: string,
  paths: HostPaths,
  env: Env,
  onProgress: (line: string) => void,
): Promise<string> {
  const srcRoot = join(kernelWorkDir(paths), 'src');
  const dir = join(srcRoot, `${src.package}_${src.version}${patches.length > 0 ? `-p${patchSetId}` : ''}`);
  if (existsSync(join(dir, '.umlkit-ready'))) return dir;
  mkdirSync(srcRoot, { recursive: true });
  const staging = mkdtempSync(join(srcRoot, '.unpack-'));
  try {
    let tarball = `/usr/src/${src.package}.tar.xz`;
    if (src.suite !== 'installed' || !existsSync(tarball)) {
      const fetched = await fetchDebianPackage(
        src.package,
        join(staging, 'deb'),
        join(kernelWorkDir(paths), 'apt'),
        env,
        onProgress,
        src.suite === 'system' || src.suite === 'installed' ? {} : { suite: src.suite },
      );
      rmSync(fetched.debFile, { force: true });
      const inner = join(fetched.dir, 'usr', 'src');
      const name = existsSync(inner) ? readdirSync(inner).find((f) => f.endsWith('.tar.xz')) : undefined;
      if (!name) {
        throw new UmlError('KERNEL_SOURCE_NOT_FOUND', `${quote(src.package)} holds no source tarball`, {
          hint: 'this does not look like a Debian linux-source package',
        });
      }
      tarball = join(inner, name);
    }
    onProgress(`unpacking ${tarball}`);
    const tar = requireTool('tar', env);
    const r = await runTool(tar, ['-xf', tarball, '-C', staging]);
    if (r.code !== 0) {
      throw new UmlError('KERNEL_SOURCE_NOT_FOUND', `cannot unpack ${quote(tarball)}`, {
        details: r.stderr.trim().split('\n').slice(-5).join('\n'),
        hint: 'check the free space in the cache directory (a tree takes about 1.5 GB)',
      });
    }
    const top = readdirSync(staging).find((f) => f.startsWith('linux'));
    if (!top) throw new UmlError('KERNEL_SOURCE_NOT_FOUND', `${quote(tarball)} holds no linux tree`);
    const tree = join(staging, top);
    for (const p of patches) await applyPatch(tree, p, env, onProgress);
    writeFileSync(join(tree, '.umlkit-ready'), `${JSON.stringify({ ...src, patches })}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tree, dir);
    return dir;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function applyPatch(
  tree: string,
  p: HashedInput & { readonly path: string },
  env: Env,
  onProgress: (line: string) => void,
): Promise<void> {
  onProgress(`applying ${p.name}`);
  const patch = requireTool('patch', env);
  const r = await runTool(patch, ['-p1', '--forward', '--batch', '--no-backup-if-mismatch', '-i', p.path], {
    cwd: tree,
  });
  if (r.code !== 0) {
    throw new UmlError('KERNEL_PATCH_FAILED', `patch ${quote(p.name)} does not apply to this source`, {
      details: `${r.stdout.toString()}${r.stderr}`.trim().split('\n').slice(-8).join('\n'),
      hint: 'refresh the patch against this kernel version (it must apply with `patch -p1`)',
    });
  }
}

/**
 * Check a user's tree can be built out of tree. kbuild refuses an O= build of a tree that has in-tree build
 * output, so say so before starting instead of after.
 * @throws {UmlError} KERNEL_SOURCE_NOT_FOUND, KERNEL_BUILD_FAILED
 */
export function checkUserTree(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(join(abs, 'Makefile')) || !existsSync(join(abs, 'arch', 'um'))) {
    throw new UmlError('KERNEL_SOURCE_NOT_FOUND', `${quote(dir)} is not a Linux source tree with arch/um`, {
      hint: 'point --source at the top of a kernel tree (the directory with MAINTAINERS and arch/)',
    });
  }
  if (existsSync(join(abs, '.config')) || existsSync(join(abs, 'include', 'config'))) {
    throw new UmlError(
      'KERNEL_BUILD_FAILED',
      `${quote(dir)} has in-tree build output, so it cannot be built out of tree`,
      {
        hint: `umlkit builds with O= into its cache and never writes your tree; clean it with \`make -C ${abs} mrproper\` (after saving its .config), or use a \`git worktree\``,
      },
    );
  }
  return abs;
}

/** `git describe --always --dirty` of a tree, when it is a git checkout. */
export function gitDescribe(dir: string): string | undefined {
  const r = spawnSync('git', ['-C', dir, 'describe', '--always', '--dirty', '--abbrev=12'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** `make kernelversion` of a tree (fast: it reads the Makefile's variables). */
export function treeKernelVersion(dir: string, env: Env): string {
  const make = requireTool('make', env);
  const r = spawnSync(make, ['-s', '-C', dir, 'kernelversion'], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  const v = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !/^\d+\.\d+/.test(v)) {
    throw new UmlError('KERNEL_SOURCE_NOT_FOUND', `\`make kernelversion\` failed in ${quote(dir)}`, {
      details: (r.stderr ?? '').trim().split('\n').slice(-5).join('\n'),
    });
  }
  return v;
}
