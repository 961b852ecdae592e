// Boot options umlkit adds for speed: `lpj=` measured once per kernel on this host (skips the delay-loop
// calibration, ~70 ms of each boot), and `seccomp=on` for kernels that have the mode and passed its check here.
import { readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseLpj, parseSeccompCheck } from '../core/kernel-build.ts';
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
 * Record what a boot log (booted without `lpj=`, with `seccomp=auto` where the kernel has it) says about this
 * host: the measured lpj and whether seccomp mode can run.
 */
export function recordCalibration(paths: HostPaths, kernelPath: string, bootLog: string): Calibration {
  const abs = resolve(kernelPath);
  const lpj = parseLpj(bootLog);
  const seccomp = parseSeccompCheck(bootLog);
  const c: Calibration = {
    key: calibrationKey(abs),
    ...(lpj ? { lpj } : {}),
    ...(seccomp ? { seccomp } : {}),
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

/** Arguments for the calibration boot itself: measure, and let seccomp mode test itself without failing. */
export function calibrationBootArgs(kernelPath: string): string[] {
  return kernelFeatures(kernelPath).seccompMode ? ['seccomp=auto'] : [];
}

/**
 * The speed options for booting this kernel here. UMLKIT_LPJ=off and UMLKIT_SECCOMP=off turn either off
 * (to measure them, or to rule them out).
 */
export function kernelBootArgs(paths: HostPaths, kernelPath: string, env: Env): string[] {
  const c = readCalibration(paths, kernelPath);
  const args: string[] = [];
  if (c?.lpj && env.UMLKIT_LPJ !== 'off') args.push(`lpj=${c.lpj}`);
  if (c?.seccomp === 'ok' && env.UMLKIT_SECCOMP !== 'off' && kernelFeatures(kernelPath).seccompMode) {
    args.push('seccomp=on');
  }
  return args;
}
