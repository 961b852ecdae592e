// The kernels in umlkit's cache: built ones (<name>/linux + kernel.json) and Debian's unpacked packages
// (<name>/usr/bin/linux.uml), the default pointer, lookup by name, and removal with its refusals.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import { isKernelManifest, type KernelManifest } from '../core/kernel-build.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { listMachineNames, readSpec } from './machine-store.ts';
import type { HostPaths } from './paths.ts';

export const kernelsDir = (paths: HostPaths): string => join(paths.cacheDir, 'kernels');
/** The file naming the default kernel (a path, one line). */
export const kernelPointerPath = (paths: HostPaths): string => join(kernelsDir(paths), 'default');
/** Sources, build trees, logs in progress: hidden from listings. */
export const kernelWorkDir = (paths: HostPaths): string => join(kernelsDir(paths), '.work');

export interface StoredKernel {
  readonly name: string;
  readonly dir: string;
  /** The kernel binary. */
  readonly path: string;
  readonly kind: 'built' | 'debian';
  readonly manifest?: KernelManifest;
}

function readManifest(dir: string): KernelManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8')) as unknown;
    return isKernelManifest(m) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Every kernel in the cache, built ones first, each group by name. */
export function listStoredKernels(paths: HostPaths): StoredKernel[] {
  let names: string[];
  try {
    names = readdirSync(kernelsDir(paths)).sort();
  } catch {
    return [];
  }
  const out: StoredKernel[] = [];
  for (const name of names) {
    if (name.startsWith('.') || name === 'default' || name.endsWith('.deb')) continue;
    const dir = join(kernelsDir(paths), name);
    const manifest = readManifest(dir);
    if (manifest && existsSync(join(dir, 'linux'))) {
      out.push({ name, dir, path: join(dir, 'linux'), kind: 'built', manifest });
    } else if (existsSync(join(dir, 'usr', 'bin', 'linux.uml'))) {
      out.push({ name, dir, path: join(dir, 'usr', 'bin', 'linux.uml'), kind: 'debian' });
    }
  }
  return [...out.filter((k) => k.kind === 'built'), ...out.filter((k) => k.kind === 'debian')];
}

/**
 * The cached kernel called `name`, or whose name starts with it when only one does; a kernel binary's path
 * finds the kernel it belongs to too.
 * @throws {UmlError} USAGE when a prefix matches several kernels.
 */
export function findStoredKernel(paths: HostPaths, name: string): StoredKernel | undefined {
  const all = listStoredKernels(paths);
  const abs = resolve(name);
  const exact = all.find((k) => k.name === name || k.path === abs);
  if (exact) return exact;
  if (name.includes('/')) return undefined;
  const matches = all.filter((k) => k.name.startsWith(name));
  if (matches.length > 1) {
    throw new UmlError('USAGE', `${quote(name)} matches ${matches.length} kernels`, {
      hint: `say which: ${matches.map((k) => k.name).join(', ')}`,
    });
  }
  return matches[0];
}

/** The binary of a cached kernel named `name`, for `--kernel NAME`; undefined when `name` is a path that exists. */
export function storedKernelPath(paths: HostPaths, name: string): string | undefined {
  if (existsSync(name) && statSync(name).isFile()) return undefined;
  return findStoredKernel(paths, name)?.path;
}

/** `--kernel ARG` as a path: a file (relative to `cwd`), else the binary of the cached kernel named ARG. */
export function kernelArgPath(arg: string, paths: HostPaths, cwd: string): string {
  const asPath = resolve(cwd, arg);
  if (arg.includes('/') || existsSync(asPath)) return asPath;
  return findStoredKernel(paths, arg)?.path ?? asPath;
}

export function readDefaultKernel(paths: HostPaths): string | undefined {
  try {
    const p = readFileSync(kernelPointerPath(paths), 'utf8').trim();
    return p === '' ? undefined : p;
  } catch {
    return undefined;
  }
}

/** Make `kernelPath` the kernel new machines boot (what `kernel install` and `kernel use` record). */
export function setDefaultKernel(paths: HostPaths, kernelPath: string): void {
  writeFileAtomic(kernelPointerPath(paths), `${resolve(kernelPath)}\n`, 0o644);
}

/** Machines whose spec names this kernel binary (they would not start without it). */
export function machinesUsingKernel(paths: HostPaths, kernelPath: string): string[] {
  return listMachineNames(paths).filter((m) => {
    try {
      const spec = readSpec(paths, m);
      return spec.kernelPath !== undefined && resolve(spec.kernelPath) === kernelPath;
    } catch {
      return false;
    }
  });
}

/**
 * Delete a cached kernel.
 * @throws {UmlError} KERNEL_IN_USE when it is the default or a machine was created with it (unless `force`).
 */
export function removeStoredKernel(paths: HostPaths, kernel: StoredKernel, force = false): void {
  const users = machinesUsingKernel(paths, kernel.path);
  if (users.length > 0 && !force) {
    throw new UmlError(
      'KERNEL_IN_USE',
      `kernel ${quote(kernel.name)} is the kernel of machine${users.length > 1 ? 's' : ''} ${users.map((u) => quote(u)).join(', ')}`,
      {
        hint: 'remove those machines first, or pass --force (they will not start until given another kernel)',
      },
    );
  }
  const isDefault = readDefaultKernel(paths) === kernel.path;
  if (isDefault && !force) {
    throw new UmlError('KERNEL_IN_USE', `kernel ${quote(kernel.name)} is the default kernel`, {
      hint: 'choose another first with `umlkit kernel use NAME`, or pass --force',
    });
  }
  rmSync(kernel.dir, { recursive: true, force: true });
  // Its out-of-tree build directory (kept for incremental rebuilds) goes too.
  if (kernel.manifest) {
    rmSync(join(kernelWorkDir(paths), 'obj', kernel.manifest.key.slice(0, 16)), {
      recursive: true,
      force: true,
    });
  }
  if (isDefault) rmSync(kernelPointerPath(paths), { force: true });
}
