// Finds the UML kernel to boot and checks that it really is one.
//
// Order: --kernel PATH|NAME, $UMLKIT_KERNEL, the config file's "kernel", the default kernel in umlkit's
// cache (set by `umlkit kernel install` or `kernel use`), then linux.uml / linux on PATH. NAME is a kernel in
// the cache (`umlkit kernel ls`), e.g. one `umlkit kernel build` made.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { kernelBootArgs } from './kernel-boot-args.ts';
import {
  isCompleteFeatures,
  type KernelFeatures,
  kernelFeatures,
  seedKernelFeatures,
} from './kernel-features.ts';
import { kernelPointerPath, storedKernelPath } from './kernel-store.ts';
import type { HostPaths } from './paths.ts';
import { findOnPath } from './tool.ts';

export type KernelSource = 'option' | 'env' | 'config' | 'cache' | 'path';

export interface Kernel {
  readonly path: string;
  readonly version: string;
  readonly source: KernelSource;
  /** Speed options for this kernel on this host (`lpj=`, `seccomp=on`), added to its command line. */
  readonly bootArgs?: readonly string[];
}

const NO_KERNEL_HINT =
  "get one without root: `umlkit kernel install` (Debian's user-mode-linux, into your cache), or `sudo apt-get install user-mode-linux`, or pass `--kernel PATH`";

/** The default kernel recorded by `umlkit kernel install`. */
export const defaultKernelPointer = (paths: HostPaths): string => kernelPointerPath(paths);

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

// Probing reads the whole binary and runs it, which costs tens of milliseconds on every boot; a kernel
// file that has not changed (same inode, size and mtime) keeps its answer in the cache.
interface ProbeCache {
  readonly version: 1;
  readonly entries: Record<
    string,
    { readonly key: string; readonly version: string; readonly features?: KernelFeatures }
  >;
}

function readProbeCache(file: string | undefined): ProbeCache {
  if (!file) return { version: 1, entries: {} };
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as ProbeCache;
    return c.version === 1 && typeof c.entries === 'object' ? c : { version: 1, entries: {} };
  } catch {
    return { version: 1, entries: {} };
  }
}

/**
 * Check `path` is an executable UML kernel and read its version (`KERNEL --version`).
 * @param cacheFile where probe answers are remembered (the cache dir's kernel-probes.json).
 * @throws {UmlError} KERNEL_NOT_FOUND if it does not exist, KERNEL_NOT_UML if it is something else.
 */
export function probeKernel(path: string, source: KernelSource, cacheFile?: string): Kernel {
  const abs = resolve(path);
  let key: string;
  try {
    const st = statSync(abs);
    if (!st.isFile()) throw new Error('not a regular file');
    accessSync(abs, constants.X_OK);
    key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (e) {
    throw new UmlError('KERNEL_NOT_FOUND', `kernel ${quote(path)} is not an executable file`, {
      cause: e,
      hint: NO_KERNEL_HINT,
    });
  }
  const cache = readProbeCache(cacheFile);
  const known = cache.entries[abs];
  if (known && known.key === key && isCompleteFeatures(known.features)) {
    seedKernelFeatures(abs, known.features);
    return { path: abs, version: known.version, source };
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
  if (cacheFile) {
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      writeFileAtomic(
        cacheFile,
        JSON.stringify({
          version: 1,
          entries: { ...cache.entries, [abs]: { key, version, features: kernelFeatures(abs) } },
        }),
      );
    } catch {
      // A read-only cache only costs the next probe its time.
    }
  }
  return { path: abs, version, source };
}

/** Resolve the kernel to boot, in the documented order, with its boot options for this host. */
export function resolveKernel(
  explicit: string | undefined,
  paths: HostPaths,
  env: Readonly<Record<string, string | undefined>>,
): Kernel {
  const k = findKernel(explicit, paths, env);
  return { ...k, bootArgs: kernelBootArgs(paths, k.path, env) };
}

function findKernel(
  explicit: string | undefined,
  paths: HostPaths,
  env: Readonly<Record<string, string | undefined>>,
): Kernel {
  const cacheFile = join(paths.cacheDir, 'kernel-probes.json');
  const named = (p: string): string => storedKernelPath(paths, p) ?? p;
  if (explicit) return probeKernel(named(explicit), 'option', cacheFile);
  if (env.UMLKIT_KERNEL) return probeKernel(named(env.UMLKIT_KERNEL), 'env', cacheFile);
  const fromConfig = readConfigKernel(paths);
  if (fromConfig) return probeKernel(fromConfig, 'config', cacheFile);
  const cached = readCachedKernel(paths);
  if (cached) return probeKernel(cached, 'cache', cacheFile);
  for (const name of ['linux.uml', 'linux']) {
    const found = findOnPath(name, env.PATH);
    if (!found) continue;
    try {
      return probeKernel(found, 'path', cacheFile);
    } catch {
      // A `linux` on PATH that is not UML is skipped, not fatal: keep looking.
    }
  }
  throw new UmlError('KERNEL_NOT_FOUND', 'no User Mode Linux kernel found', { hint: NO_KERNEL_HINT });
}
