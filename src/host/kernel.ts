// Finds the UML kernel to boot and checks that it really is one.
//
// Order: --kernel PATH, $UMLKIT_KERNEL, the config file's "kernel", the default kernel in umlkit's
// cache (set by `umlkit kernel install`), then linux.uml / linux on PATH.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import type { HostPaths } from './paths.ts';
import { findOnPath } from './tool.ts';

export type KernelSource = 'option' | 'env' | 'config' | 'cache' | 'path';

export interface Kernel {
  readonly path: string;
  readonly version: string;
  readonly source: KernelSource;
}

const NO_KERNEL_HINT =
  "get one without root: `umlkit kernel install` (Debian's user-mode-linux, into your cache), or `sudo apt-get install user-mode-linux`, or pass `--kernel PATH`";

/** The default kernel recorded by `umlkit kernel install`. */
export const defaultKernelPointer = (paths: HostPaths): string => join(paths.cacheDir, 'kernels', 'default');

function readConfigKernel(paths: HostPaths): string | undefined {
  try {
    const config = JSON.parse(readFileSync(paths.configFile, 'utf8')) as { kernel?: unknown };
    return typeof config.kernel === 'string' ? config.kernel : undefined;
  } catch {
    return undefined;
  }
}

function readCachedKernel(paths: HostPaths): string | undefined {
  try {
    const target = readFileSync(defaultKernelPointer(paths), 'utf8').trim();
    return target !== '' && existsSync(target) ? target : undefined;
  } catch {
    return undefined;
  }
}

// "uml_dir=" is a key of UML's host-side option table: every UML binary carries it, other programs
// and non-UML kernels do not. Scanning the file costs a few milliseconds and runs nothing.
function looksLikeUml(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    if (head.toString('latin1') !== '\x7fELF') return false;
  } finally {
    closeSync(fd);
  }
  return readFileSync(path).includes('uml_dir=');
}

/**
 * Check `path` is an executable UML kernel and read its version (`KERNEL --version`).
 * @throws {UmlError} KERNEL_NOT_FOUND if it does not exist, KERNEL_NOT_UML if it is something else.
 */
export function probeKernel(path: string, source: KernelSource): Kernel {
  const abs = resolve(path);
  try {
    if (!statSync(abs).isFile()) throw new Error('not a regular file');
    accessSync(abs, constants.X_OK);
  } catch (e) {
    throw new UmlError('KERNEL_NOT_FOUND', `kernel ${quote(path)} is not an executable file`, {
      cause: e,
      hint: NO_KERNEL_HINT,
    });
  }
  if (!looksLikeUml(abs)) {
    throw new UmlError('KERNEL_NOT_UML', `${quote(path)} is not a User Mode Linux kernel`, {
      hint: "umlkit needs a kernel built with ARCH=um, such as /usr/bin/linux.uml from Debian's user-mode-linux package; `umlkit kernel install` fetches one",
    });
  }
  const out = spawnSync(abs, ['--version'], { encoding: 'utf8', timeout: 5000, env: {} });
  const version = out.stdout?.trim() ?? '';
  if (out.status !== 0 || !/^\d+\.\d+/.test(version)) {
    const tail = (out.stderr ?? '').trim().split('\n').slice(-5).join('\n');
    throw new UmlError('KERNEL_NOT_UML', `${quote(path)} did not answer \`--version\` as a UML kernel does`, {
      ...(tail ? { details: tail } : {}),
      hint: 'check that the kernel runs on this host: `umlkit doctor`',
    });
  }
  return { path: abs, version, source };
}

/** Resolve the kernel to boot, in the documented order. */
export function resolveKernel(
  explicit: string | undefined,
  paths: HostPaths,
  env: Readonly<Record<string, string | undefined>>,
): Kernel {
  if (explicit) return probeKernel(explicit, 'option');
  if (env.UMLKIT_KERNEL) return probeKernel(env.UMLKIT_KERNEL, 'env');
  const fromConfig = readConfigKernel(paths);
  if (fromConfig) return probeKernel(fromConfig, 'config');
  const cached = readCachedKernel(paths);
  if (cached) return probeKernel(cached, 'cache');
  for (const name of ['linux.uml', 'linux']) {
    const found = findOnPath(name, env.PATH);
    if (!found) continue;
    try {
      return probeKernel(found, 'path');
    } catch {
      // A `linux` on PATH that is not UML is skipped, not fatal: keep looking.
    }
  }
  throw new UmlError('KERNEL_NOT_FOUND', 'no User Mode Linux kernel found', { hint: NO_KERNEL_HINT });
}
