// `umlkit kernel install`: Debian's user-mode-linux package, unpacked into the user's cache, checked to
// boot-probe (`--version`), and recorded as the default kernel. No root at any step.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UmlError } from '../core/errors.ts';
import { fetchDebianPackage } from './deb-fetch.ts';
import { defaultKernelPointer, type Kernel, probeKernel } from './kernel.ts';
import type { HostPaths } from './paths.ts';

export interface InstalledKernel extends Kernel {
  readonly dir: string;
}

export const kernelsDir = (paths: HostPaths): string => join(paths.cacheDir, 'kernels');

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
  writeFileSync(`${defaultKernelPointer(paths)}.tmp`, `${path}\n`);
  renameSync(`${defaultKernelPointer(paths)}.tmp`, defaultKernelPointer(paths));
  return { ...kernel, path, dir };
}

/** Kernels unpacked in the cache (each dir holds usr/bin/linux.uml). */
export function listCachedKernels(paths: HostPaths): { name: string; path: string }[] {
  try {
    return readdirSync(kernelsDir(paths))
      .filter((n) => !n.startsWith('.') && n !== 'default' && !n.endsWith('.deb'))
      .map((name) => ({ name, path: join(kernelsDir(paths), name, 'usr', 'bin', 'linux.uml') }));
  } catch {
    return [];
  }
}

export function kernelInstallFailed(e: unknown): never {
  if (e instanceof UmlError) throw e;
  throw new UmlError('KERNEL_INSTALL_FAILED', `kernel install failed: ${(e as Error).message}`, { cause: e });
}
