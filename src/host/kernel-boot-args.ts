// Boot options umlkit adds for speed: `lpj=` measured once per kernel on this host (skips the delay-loop
// calibration, ~70 ms of each boot), `seccomp=on` for kernels that have the mode and passed its check here,
// and two trims of boot work no machine of ours uses (docs/kernels.md "Boot trims"): Debian's 6.1 spends
// 0.85 s of busy CPU benchmarking RAID6 algorithms and ~0.25 s creating 256 BSD pty pairs, at every boot.
import { readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseLpj } from '../core/kernel-build.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { kernelFeatures } from './kernel-features.ts';
import type { HostPaths } from './paths.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface Calibration {
  /** Which binary on which CPU this was measured for; a rebuilt kernel or another CPU model does not match. */
  readonly key: string;
  readonly lpj?: number;
  readonly seccomp?: 'ok' | 'failed';
  readonly at: string;
}

interface CalibrationFile {
  readonly version: 1;
  readonly entries: Record<string, Calibration>;
}

const calibrationFile = (paths: HostPaths): string => join(paths.cacheDir, 'kernel-calibration.json');

function calibrationKey(kernelPath: string): string {
  const st = statSync(kernelPath);
  return `${cpus()[0]?.model ?? 'unknown cpu'}|${st.ino}:${st.size}:${st.mtimeMs}`;
}

function readFile(paths: HostPaths): CalibrationFile {
  try {
    const f = JSON.parse(readFileSync(calibrationFile(paths), 'utf8')) as CalibrationFile;
    return f.version === 1 && typeof f.entries === 'object' ? f : { version: 1, entries: {} };
  } catch {
    return { version: 1, entries: {} };
  }
}

/** The calibration of this kernel binary on this host, if one was recorded and still matches. */
export function readCalibration(paths: HostPaths, kernelPath: string): Calibration | undefined {
  const abs = resolve(kernelPath);
  const c = readFile(paths).entries[abs];
  try {
    return c && c.key === calibrationKey(abs) ? c : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Record what a calibration boot found on this host: the lpj its kernel log shows (booted without `lpj=`),
 * and, for a kernel with the seccomp mode, whether a boot with `seccomp=on` worked (kept when not given).
 */
export function recordCalibration(
  paths: HostPaths,
  kernelPath: string,
  kernelLog: string,
  seccomp?: 'ok' | 'failed',
): Calibration {
  const abs = resolve(kernelPath);
  // A loaded host measures too few loops (the calibration shares the CPU); the largest measurement is the
  // closest to the truth, and too long a delay is harmless where too short a one is not.
  const before = readCalibration(paths, abs)?.lpj ?? 0;
  const lpj = Math.max(parseLpj(kernelLog) ?? 0, before) || undefined;
  const known = seccomp ?? readCalibration(paths, abs)?.seccomp;
  const c: Calibration = {
    key: calibrationKey(abs),
    ...(lpj ? { lpj } : {}),
    ...(known ? { seccomp: known } : {}),
    at: new Date().toISOString(),
  };
  const file = readFile(paths);
  writeFileAtomic(
    calibrationFile(paths),
    `${JSON.stringify({ version: 1, entries: { ...file.entries, [abs]: c } }, null, 2)}\n`,
    0o644,
  );
  return c;
}

/**
 * After any successful boot without `lpj=`: its console shows the lpj the kernel measured, so every kernel
 * is calibrated by its first use, not only by `kernel build` or `kernel calibrate`. Best effort.
 */
export function noteBootLog(
  paths: HostPaths,
  kernelPath: string,
  bootArgs: readonly string[],
  log: string,
): void {
  if (bootArgs.some((a) => a.startsWith('lpj=')) || parseLpj(log) === undefined) return;
  try {
    recordCalibration(paths, kernelPath, log);
  } catch {}
}

/** Whether the calibration should try `seccomp=on` (the kernel has the mode). */
export const hasSeccompMode = (kernelPath: string): boolean => kernelFeatures(kernelPath).seccompMode;

/**
 * Boot work skipped by command-line options alone. Skipping the RAID6 selection leaves btrfs RAID5/6 without
 * an algorithm (md raid456 is a module, and modules are disabled): a guest that needs it sets
 * UMLKIT_BOOT_TRIM=off. Nothing uses BSD ptys (/dev/ptyXX); Unix98 ptys (/dev/pts) are untouched.
 */
export function bootTrims(kernelPath: string, env: Env): string[] {
  if (env.UMLKIT_BOOT_TRIM === 'off') return [];
  const f = kernelFeatures(kernelPath);
  return [
    ...(f.raid6Benchmark ? ['initcall_blacklist=raid6_select_algo'] : []),
    ...(f.legacyPtys ? ['pty.legacy_count=0'] : []),
  ];
}

/**
 * The speed options for booting this kernel here. UMLKIT_LPJ=off, UMLKIT_KERNEL_SECCOMP=off and
 * UMLKIT_BOOT_TRIM=off turn each off (to measure them, or to rule them out).
 */
export function kernelBootArgs(paths: HostPaths, kernelPath: string, env: Env): string[] {
  const c = readCalibration(paths, kernelPath);
  const args: string[] = bootTrims(kernelPath, env);
  if (c?.lpj && env.UMLKIT_LPJ !== 'off') args.push(`lpj=${c.lpj}`);
  if (c?.seccomp === 'ok' && env.UMLKIT_KERNEL_SECCOMP !== 'off' && kernelFeatures(kernelPath).seccompMode) {
    args.push('seccomp=on');
  }
  return args;
}
