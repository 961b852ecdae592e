// The environment a UML kernel process gets: a minimal allow-list, the guest RAM directory, and the
// XSAVE ptrace shim for dynamically linked kernels (see native/fpfix/fpfix.c for why).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readElfInfo } from './elf.ts';
import { kernelFeatures } from './kernel-features.ts';

/** dist/native, where the build puts the agent initramfs and the shim. */
export const NATIVE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
export const INITRAMFS_PATH = join(NATIVE_DIR, 'initramfs.cpio');
export const FPFIX_PATH = join(NATIVE_DIR, 'fpfix.so');

export function kernelEnv(kernelPath: string, ramDir: string, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: ramDir,
  };
  // A static kernel ignores LD_PRELOAD; a dynamic one without the shim dies on AVX-512/AMX hosts.
  if (existsSync(FPFIX_PATH) && !readElfInfo(kernelPath).isStatic) env.LD_PRELOAD = FPFIX_PATH;
  // Newer kernels re-exec themselves through /proc to turn ASLR off; the sandbox's jail does it for them
  // instead (the sandbox has no /proc: native/jail/jail.c).
  if (kernelFeatures(kernelPath).reexecsForAslr) env.UMLKIT_JAIL_NO_ASLR = '1';
  return env;
}
