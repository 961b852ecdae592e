// Boots the real UML kernel directly for guest tests: a busybox ext4 root built with mke2fs -d, the host
// quirks handled (AMX fix preload, TMPDIR=/dev/shm, every console line set), and no process left behind.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KERNEL = '/usr/bin/linux.uml';
const repoRoot = new URL('../..', import.meta.url).pathname;
export const FPFIX = join(repoRoot, 'dist', 'native', 'fpfix.so');

/** What the guest tests need on this host; the reason to skip when something is missing. */
export function guestSkipReason(): string | undefined {
  for (const p of [KERNEL, '/bin/busybox', '/usr/bin/uml_moo', '/usr/bin/uml_mkcow'])
    if (!existsSync(p)) return `${p} is missing`;
  if (!existsSync(FPFIX)) {
    // Debian's UML 6.1 dies at its first user process on CPUs with AMX unless this shim is preloaded.
    try {
      execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { stdio: 'ignore' });
    } catch {}
  }
  return existsSync(FPFIX) ? undefined : `${FPFIX} could not be built (node scripts/build.mjs)`;
}

/** An ext4 root: /bin/busybox and the given /init shell script (run by busybox sh). */
export function buildRootfs(image: string, init: string, size = '64M'): void {
  const root = mkdtempSync(join(image, '..', 'root-'));
  try {
    for (const d of ['bin', 'proc', 'dev', 'tmp']) mkdirSync(join(root, d));
    copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
    writeFileSync(join(root, 'init'), `#!/bin/busybox sh\n${init}\n`);
    chmodSync(join(root, 'init'), 0o755);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', root, image, size], { stdio: 'ignore' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export interface BootResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

const live = new Set<ChildProcess>();

/** Kill every kernel this file started that is still running (the whole process group of each). */
export function killAllKernels(): void {
  for (const child of live) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
  live.clear();
}

/**
 * Boot the kernel with `args` (ubd0=… etc.) until it powers off or `timeoutMs` passes (then the group is
 * killed). The console is fd 1 of the kernel, captured.
 */
export function boot(umid: string, args: readonly string[], timeoutMs = 60_000): Promise<BootResult> {
  const umlDir = mkdtempSync('/tmp/uml-');
  const child = spawn(
    KERNEL,
    [`uml_dir=${umlDir}`, `umid=${umid}`, 'mem=64M', 'con=null', 'ssl=null', 'con0=null,fd:1', ...args],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', TMPDIR: '/dev/shm', LD_PRELOAD: FPFIX },
    },
  );
  live.add(child);
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      output += '\n[test: boot timed out, killing]\n';
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // The kernel's helper processes share its group: make sure none outlives it (they keep disk locks).
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {}
      live.delete(child);
      rmSync(umlDir, { recursive: true, force: true });
      resolve({ code, signal, output });
    });
  });
}

/** The content of a file inside an ext image, read on the host with debugfs. */
export function readGuestFile(image: string, path: string): string {
  return execFileSync('debugfs', ['-R', `cat ${path}`, image], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** Names in a directory of an ext image. */
export function listGuestDir(image: string, path: string): string[] {
  const out = execFileSync('debugfs', ['-R', `ls -p ${path}`, image], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // -p prints /inode/mode/uid/gid/name/size/ lines.
  return out
    .split('\n')
    .map((l) => l.split('/')[5])
    .filter((n): n is string => n !== undefined && n !== '' && n !== '.' && n !== '..');
}
