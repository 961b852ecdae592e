// Boots a kernel once to learn what speeds up its later boots on this host: the delay-loop calibration it
// measured (so `lpj=` can skip it) and whether its seccomp mode works here. It is also a smoke test: the
// guest must get past its first userspace processes (agent, then dmesg) for it to succeed.
import { Writable } from 'node:stream';
import { GUEST_SYSTEM_PATH } from '../core/agent-protocol.ts';
import { quote, UmlError } from '../core/errors.ts';
import type { Kernel } from '../host/kernel.ts';
import { type Calibration, hasSeccompMode, recordCalibration } from '../host/kernel-boot-args.ts';
import type { HostPaths } from '../host/paths.ts';
import { runMachine } from './run.ts';

export interface CalibrationResult {
  readonly calibration: Calibration;
  /** Host wall time from spawn to the agent's hello, in this (uncalibrated) boot. */
  readonly bootMs: number;
}

/**
 * A kernel with the seccomp mode boots with `seccomp=on` first (the mode then tests itself and refuses to
 * boot where the host cannot run it); if that boot fails, it boots again without and the mode is recorded
 * as failed, so later boots use ptrace mode.
 * @throws {UmlError} the boot's own errors (GUEST_PANIC, BOOT_TIMEOUT, KERNEL_EXITED)
 */
export async function calibrateKernel(
  kernel: Kernel,
  imagePath: string,
  paths: HostPaths,
): Promise<CalibrationResult> {
  if (hasSeccompMode(kernel.path)) {
    try {
      const r = await dmesgBoot(kernel, ['seccomp=on'], imagePath, paths);
      return { calibration: recordCalibration(paths, kernel.path, r.log, 'ok'), bootMs: r.bootMs };
    } catch {
      const r = await dmesgBoot(kernel, [], imagePath, paths);
      return { calibration: recordCalibration(paths, kernel.path, r.log, 'failed'), bootMs: r.bootMs };
    }
  }
  const r = await dmesgBoot(kernel, [], imagePath, paths);
  return { calibration: recordCalibration(paths, kernel.path, r.log), bootMs: r.bootMs };
}

async function dmesgBoot(
  kernel: Kernel,
  bootArgs: string[],
  imagePath: string,
  paths: HostPaths,
): Promise<{ log: string; bootMs: number }> {
  let log = '';
  const stdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      log += chunk.toString();
      done();
    },
  });
  const stderr = new Writable({ write: (_c, _e, done) => done() });
  const result = await runMachine({
    // A large log buffer: the lines read here (the version, the delay loop's lpj) come first, and a kernel
    // with every driver built in (the `full` profile) logs enough to push them out of the default 128 KiB.
    kernel: { ...kernel, bootArgs: [...bootArgs, 'log_buf_len=4M'] },
    imagePath,
    // Room for any profile: a `full` build (every Debian module built in) uses ~70 MiB once booted and
    // ran out of memory during its initcalls with 64 MiB (and at times with 128). Guest RAM is a sparse
    // file, so only what the boot touches is ever allocated.
    memoryBytes: 256 << 20,
    disks: [],
    argv: ['dmesg'],
    env: [GUEST_SYSTEM_PATH],
    workdir: '/',
    tty: false,
    bootTimeoutMs: 60_000,
    timeoutMs: 30_000,
    keep: false,
    stdout,
    stderr,
    paths,
  });
  if (result.exitCode !== 0 || !log.includes('Linux version')) {
    throw new UmlError('KERNEL_EXITED', `kernel ${quote(kernel.path)} booted, but \`dmesg\` in it failed`, {
      hint: 'the image needs a dmesg (busybox has one); check the kernel with `umlkit run --kernel PATH -- true`',
    });
  }
  return { log, bootMs: result.timingsMs.boot };
}
