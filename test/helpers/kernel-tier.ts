// The kernel tier's CLI runner: the real bin/umlkit.js with the shared kernel cache and private state and
// runtime dirs, and a boot without any help from umlkit (no shim, no agent) for the XSAVE check.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { encodeCpio } from '../../src/core/cpio.ts';

export const REPO = join(import.meta.dirname, '..', '..');
export const BIN = join(REPO, 'bin', 'umlkit.js');

declare module 'vitest' {
  export interface ProvidedContext {
    kernelCacheDir: string;
  }
}

export interface Cli {
  readonly env: Record<string, string>;
  run(args: readonly string[], options?: { input?: string; timeoutMs?: number }): CliResult;
  dispose(): void;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function kernelCli(extraEnv: Record<string, string> = {}): Cli {
  const root = mkdtempSync('/tmp/ukk-');
  for (const d of ['state', 'rt', 'home']) mkdirSync(join(root, d), { mode: 0o700 });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(root, 'home'),
    UMLKIT_STATE_DIR: join(root, 'state'),
    UMLKIT_RUNTIME_DIR: join(root, 'rt'),
    UMLKIT_CACHE_DIR: inject('kernelCacheDir'),
    NO_COLOR: '1',
    ...extraEnv,
  };
  return {
    env,
    run(args, options = {}) {
      const r = spawnSync(process.execPath, [BIN, ...args], {
        env,
        encoding: 'utf8',
        input: options.input ?? '',
        timeout: options.timeoutMs ?? 60 * 60 * 1000,
        maxBuffer: 64 << 20,
      });
      return { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** `kernel build … --print-path`, failing the test with the build's error if it fails. */
export function buildOrFail(cli: Cli, args: readonly string[]): string {
  const r = cli.run(['kernel', 'build', '--quiet', ...args]);
  if (r.code !== 0) throw new Error(`kernel build ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout.trim().split('\t').pop() as string;
}

/**
 * Boot `kernel` with nothing of umlkit's around it: no LD_PRELOAD shim, a static /init that forks a child
 * which uses the FPU, then powers off. Returns the console. On AVX-512/AMX hosts a kernel without the XSAVE
 * fix dies here ("ptrace set fp regs failed").
 */
export function bareBoot(kernel: string): string {
  const dir = mkdtempSync('/tmp/ukk-bare-');
  try {
    const src = join(dir, 'init.c');
    writeFileSync(
      src,
      `#include <stdio.h>
#include <unistd.h>
#include <sys/reboot.h>
#include <sys/wait.h>
int main(void) {
  volatile double x = 1.5;
  for (int i = 0; i < 1000; i++) x *= 1.0001;
  printf("INIT_START\\n"); fflush(stdout);
  pid_t p = fork();
  if (p == 0) { printf("CHILD %.3f\\n", x * 2); fflush(stdout); _exit(0); }
  int st; waitpid(p, &st, 0);
  printf("CHILD_DONE %d\\n", WEXITSTATUS(st)); fflush(stdout);
  reboot(RB_POWER_OFF);
  return 0;
}
`,
    );
    execFileSync('gcc', ['-static', '-O2', '-o', join(dir, 'init'), src]);
    const cpio = encodeCpio([{ path: 'init', mode: 0o100755, data: readFileSync(join(dir, 'init')) }]);
    writeFileSync(join(dir, 'init.cpio'), cpio);
    const r = spawnSync(
      kernel,
      ['mem=64M', `initrd=${join(dir, 'init.cpio')}`, 'con=null', 'con0=null,fd:1'],
      {
        env: { HOME: dir, TMPDIR: '/dev/shm' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    return `${r.stdout ?? ''}${r.stderr ?? ''}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
