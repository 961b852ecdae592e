// The fallback sandbox for hosts where bwrap cannot create namespaces: the jail helper applies a
// Landlock ruleset (only the machine's files), the seccomp program and the rlimits itself, then execs
// the kernel. Weaker than bwrap (the host's process and network namespaces stay shared; RLIMIT_NPROC
// counts all of the user's processes), and reported as such.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { landlockArgv, type SandboxLimits } from '../../core/sandbox-argv.ts';
import { JAIL_PATH } from './probe.ts';

let abiCache: number | undefined;

/** Landlock ABI version of this kernel (0: none). `UMLKIT_LANDLOCK=0` pretends there is none. */
export function landlockAbi(env: Readonly<Record<string, string | undefined>>): number {
  if (env.UMLKIT_LANDLOCK === '0') return 0;
  if (abiCache === undefined) {
    const r = spawnSync(JAIL_PATH, ['--landlock-abi'], { encoding: 'utf8', timeout: 5000 });
    abiCache = r.status === 0 ? Math.max(0, Number(r.stdout.trim()) || 0) : 0;
  }
  return abiCache;
}

/** Processes of this user now: without a user namespace RLIMIT_NPROC counts them all. */
function userProcessCount(): number {
  const uid = process.getuid?.() ?? -1;
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (statSync(`/proc/${name}`).uid === uid) n++;
    } catch {}
  }
  return n;
}

export interface LandlockLaunchInput {
  readonly kernelPath: string;
  readonly kernelArgv: readonly string[];
  readonly runDir: string;
  readonly readOnly: readonly string[];
  readonly readWrite: readonly string[];
  readonly seccompFd: number;
  readonly limits: SandboxLimits;
  readonly cgroup?: string;
}

export function landlockLaunch(input: LandlockLaunchInput): {
  args: string[];
  ramDir: string;
  nproc: number;
} {
  // Guest RAM inside the run dir: a dir of its own in /dev/shm could not be removed after a kill -9.
  const ramDir = join(input.runDir, 'ram');
  mkdirSync(ramDir, { recursive: true, mode: 0o700 });
  const nproc = userProcessCount() + input.limits.nproc;
  const args = landlockArgv({
    jail: JAIL_PATH,
    kernel: input.kernelPath,
    kernelArgv: input.kernelArgv,
    readOnly: [...input.readOnly, '/proc/cpuinfo', '/dev/random', '/dev/urandom'],
    readWrite: [
      input.runDir,
      ...input.readWrite.filter((p) => !p.startsWith(`${input.runDir}/`)),
      '/dev/null',
    ],
    seccompFd: input.seccompFd,
    limits: { ...input.limits, nproc },
    ...(input.cgroup ? { cgroup: input.cgroup } : {}),
  });
  return { args, ramDir, nproc };
}
