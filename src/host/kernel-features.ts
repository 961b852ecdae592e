// What a UML kernel binary can do, read from the binary itself: its option table names `seccomp=` (the
// seccomp mode of UML 6.16+) and `time-travel-start=` (time-travel support) only when built with them, and
// kernels that re-exec themselves to turn off address-space randomisation carry that step's error message;
// costly boot steps (the RAID6 benchmark, legacy ptys) are known by their messages and parameter names.
import { readFileSync, statSync } from 'node:fs';
import { readElfInfo } from './elf.ts';

export interface KernelFeatures {
  /** The kernel accepts `seccomp=on|auto|off`: guest processes traced with seccomp instead of ptrace. */
  readonly seccompMode: boolean;
  readonly timeTravel: boolean;
  /** Statically linked: the XSAVE shim (LD_PRELOAD) cannot apply, the kernel must carry the fix itself. */
  readonly isStatic: boolean;
  /** It turns ASLR off and re-execs /proc/self/exe at start (newer than 6.1), which needs /proc. */
  readonly reexecsForAslr: boolean;
  /**
   * It benchmarks the RAID6 algorithms at every boot (CONFIG_RAID6_PQ_BENCHMARK, as in Debian's 6.1): a
   * busy loop of 16 jiffies per algorithm, 0.85 s of CPU here, used only by btrfs RAID5/6 and md raid456.
   */
  readonly raid6Benchmark: boolean;
  /** It creates BSD-style ptys at boot (CONFIG_LEGACY_PTYS, 256 pairs by default: ~0.25 s of device setup). */
  readonly legacyPtys: boolean;
  /** It has the legacy `daemon` network transport (CONFIG_UML_NET_DAEMON: Debian's 6.1, not 7.x). */
  readonly daemonTransport: boolean;
}

/** Whether a cached feature record has every field this version reads (older caches lack the newest). */
export const isCompleteFeatures = (f: Partial<KernelFeatures> | undefined): f is KernelFeatures =>
  typeof f?.raid6Benchmark === 'boolean' &&
  typeof f.legacyPtys === 'boolean' &&
  typeof f.daemonTransport === 'boolean';

const memo = new Map<string, KernelFeatures>();

const keyOf = (path: string): string => {
  const st = statSync(path);
  return `${path}:${st.ino}:${st.size}:${st.mtimeMs}`;
};

/** Features from the binary's bytes (for a caller that has read the file anyway). */
export function featuresFromBytes(path: string, bytes: Buffer): KernelFeatures {
  return {
    // Option keys are NUL-terminated C strings in the binary; help texts continue after the `=`.
    seccompMode: bytes.includes('seccomp=\0'),
    timeTravel: bytes.includes('time-travel-start=\0'),
    isStatic: readElfInfo(path).isStatic,
    reexecsForAslr: bytes.includes('readlink failure\0'),
    // The benchmark's per-algorithm line; a kernel without the benchmark prints "skipped pq benchmark".
    raid6Benchmark: bytes.includes('raid6: %-8s gen() %5ld MB/s'),
    legacyPtys: bytes.includes('pty.legacy_count\0'),
    daemonTransport: bytes.includes('daemon_open : control connect failed'),
  };
}

/** Remember features found elsewhere (the kernel probe's cache), so this process reads nothing. */
export function seedKernelFeatures(path: string, features: KernelFeatures): void {
  memo.set(keyOf(path), features);
}

export function kernelFeatures(path: string): KernelFeatures {
  const key = keyOf(path);
  const known = memo.get(key);
  if (known) return known;
  const features = featuresFromBytes(path, readFileSync(path));
  memo.set(key, features);
  return features;
}
