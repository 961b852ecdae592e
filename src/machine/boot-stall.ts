// A stuck boot: a UML kernel prints without pause until its agent says hello (~0.3 s here, seconds on a
// loaded host), so a long silence before then means it hangs. The fast 6.1 profile does, in about 0.6%
// of boots (a livelock in 6.1's IRQ-stack code, docs/kernels.md).
import type { KernelProcess } from '../host/kernel-process.ts';

/** The silence that counts as stuck; UMLKIT_BOOT_STALL_MS changes it (tests use a short one). */
export const BOOT_STALL_MS = Number(process.env.UMLKIT_BOOT_STALL_MS) || 10_000;

/** Resolves once the kernel has printed nothing for BOOT_STALL_MS. */
export function stallWatch(k: KernelProcess): { promise: Promise<void>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    handle = setInterval(() => {
      if (performance.now() - k.lastOutputAt >= BOOT_STALL_MS) resolve();
    }, 250);
  });
  return { promise, cancel: () => clearInterval(handle) };
}
