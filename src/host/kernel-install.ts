// `umlkit kernel install`: Debian's user-mode-linux package, unpacked into the user's cache, checked to
// boot-probe (`--version`), and recorded as the default kernel. No root at any step.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UmlError } from '../core/errors.ts';
import { fetchDebianPackage } from './deb-fetch.ts';
import { type Kernel, probeKernel } from './kernel.ts';
import { kernelsDir, listStoredKernels, setDefaultKernel } from './kernel-store.ts';
import type { HostPaths } from './paths.ts';

export interface InstalledKernel extends Kernel {
  readonly dir: string;
}

export { kernelsDir };

export async function installDebianKernel(
  paths: HostPaths,
  env: Readonly<Record<string, string | undefined>>,
  onProgress: (line: string) => void,
  pkg = 'user-mode-linux',
): Promise<InstalledKernel> {
  const staging = join(kernelsDir(paths), `.${pkg}.new`);
  await fetchDebianPackage(pkg, staging, join(paths.cacheDir, 'tmp'), env, onProgress);
  onProgress('checking the kernel runs');
  const kernel = probeKernel(join(staging, 'usr', 'bin', 'linux.uml'), 'cache');
  const dir = join(kernelsDir(paths), `debian-${kernel.version}`);
  mkdirSync(kernelsDir(paths), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  const path = join(dir, 'usr', 'bin', 'linux.uml');
  setDefaultKernel(paths, path);
  return { ...kernel, path, dir };
}

/** Kernels in the cache: built ones (<name>/linux) and unpacked Debian packages (<name>/usr/bin/linux.uml). */
export function listCachedKernels(paths: HostPaths): { name: string; path: string }[] {
  return listStoredKernels(paths).map((k) => ({ name: k.name, path: k.path }));
}

export function kernelInstallFailed(e: unknown): never {
  if (e instanceof UmlError) throw e;
  throw new UmlError('KERNEL_INSTALL_FAILED', `kernel install failed: ${(e as Error).message}`, { cause: e });
}
