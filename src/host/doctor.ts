// Host checks for `umlkit doctor`: each says what it found and, when it fails, the fix.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { arch } from 'node:os';
import { isUmlError } from '../core/errors.ts';
import { formatSize } from '../core/units.ts';
import { readElfInfo } from './elf.ts';
import { chooseGuestRamDir } from './guest-ram-dir.ts';
import { resolveKernel } from './kernel.ts';
import { FPFIX_PATH, INITRAMFS_PATH } from './kernel-env.ts';
import type { HostPaths } from './paths.ts';
import { landlockAbi } from './sandbox/landlock.ts';
import { probeSandbox } from './sandbox/probe.ts';
import { findOnPath } from './tool.ts';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** A failing check that does not stop machines from running. */
  readonly warning?: boolean;
  readonly detail: string;
  readonly fix?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function ptraceCheck(): Check {
  let scope = 0;
  try {
    scope = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    // No Yama: classic ptrace rules, which allow tracing one's own children.
  }
  // UML traces its own child processes: Yama scopes 0 and 1 allow that, 2 and 3 do not.
  return scope <= 1
    ? { name: 'ptrace', ok: true, detail: `allowed (yama ptrace_scope ${scope})` }
    : {
        name: 'ptrace',
        ok: false,
        detail: `yama ptrace_scope is ${scope}: UML cannot trace its own processes`,
        fix: 'sudo sysctl kernel.yama.ptrace_scope=1',
      };
}

function cpuNeedsShim(): boolean {
  try {
    return /\b(avx512f|amx_tile)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export function runDoctor(paths: HostPaths, env: Env): Check[] {
  const checks: Check[] = [];
  checks.push(
    arch() === 'x64'
      ? { name: 'architecture', ok: true, detail: 'x86_64' }
      : {
          name: 'architecture',
          ok: false,
          detail: `${arch()}: umlkit supports x86_64 hosts`,
          fix: 'use an x86_64 machine',
        },
  );
  checks.push(ptraceCheck());
  // The sandbox is the security boundary (docs/security.md): without it machines need --no-sandbox.
  const sandbox = probeSandbox(env);
  checks.push(
    sandbox.namespaces.ok
      ? { name: 'sandbox', ok: true, detail: `${sandbox.namespaces.detail}; seccomp allow-list; rlimits` }
      : landlockAbi(env) > 0
        ? {
            name: 'sandbox',
            ok: false,
            warning: true,
            detail: `${sandbox.namespaces.detail}: falling back to Landlock ABI ${landlockAbi(env)} + seccomp + rlimits (host pid and network namespaces shared)`,
            fix: sandbox.bwrap
              ? 'allow unprivileged user namespaces for the full sandbox'
              : 'sudo apt-get install bubblewrap',
          }
        : {
            name: 'sandbox',
            ok: false,
            detail: `${sandbox.namespaces.detail}: machines refuse to start without --no-sandbox`,
            fix: sandbox.bwrap
              ? 'sudo sysctl user.max_user_namespaces=10000'
              : 'sudo apt-get install bubblewrap',
          },
  );
  const cg = sandbox.cgroup.controllers;
  const perController = `pids ${cg.pids}, memory ${cg.memory}, cpu ${cg.cpu}`;
  checks.push(
    sandbox.cgroup.ok
      ? { name: 'cgroup', ok: true, detail: `used: ${sandbox.cgroup.detail}; ${perController}` }
      : {
          name: 'cgroup',
          ok: false,
          warning: true,
          detail: `unavailable: ${sandbox.cgroup.detail}; ${perController}`,
          fix: 'run umlkit in a cgroup v2 subtree delegated to your user (systemd-run --user -p Delegate=yes --scope …) with pids and memory available',
        },
  );
  const ram = chooseGuestRamDir(
    [paths.runtimeDir, '/dev/shm', '/tmp', paths.cacheDir].filter((d) => existsSync(d)),
  );
  checks.push(
    ram
      ? {
          name: 'guest memory dir',
          ok: true,
          detail: `${ram.dir}${ram.tmpfs ? ' (tmpfs)' : ' (not tmpfs: guest RAM goes to disk)'}${ram.rejected.length ? `; skipped ${ram.rejected.join(', ')}` : ''}`,
        }
      : {
          name: 'guest memory dir',
          ok: false,
          detail: 'no writable directory that allows exec (/dev/shm noexec?)',
          fix: 'set UMLKIT_RUNTIME_DIR to a directory on an exec-able filesystem',
        },
  );
  try {
    const kernel = resolveKernel(undefined, paths, env);
    checks.push({
      name: 'kernel',
      ok: true,
      detail: `${kernel.path} (UML ${kernel.version}, from ${kernel.source})`,
    });
    if (cpuNeedsShim() && !readElfInfo(kernel.path).isStatic) {
      checks.push(
        existsSync(FPFIX_PATH)
          ? {
              name: 'XSAVE shim',
              ok: true,
              detail: 'this CPU has AVX-512/AMX state; the ptrace shim is built and used',
            }
          : {
              name: 'XSAVE shim',
              ok: false,
              detail: `${FPFIX_PATH} is missing: UML 6.1 crashes at its first process on this CPU`,
              fix: 'npm run build',
            },
      );
    }
  } catch (e) {
    if (!isUmlError(e)) throw e;
    checks.push({ name: 'kernel', ok: false, detail: e.message, fix: e.hint ?? 'umlkit kernel install' });
  }
  checks.push(
    existsSync(INITRAMFS_PATH)
      ? { name: 'agent', ok: true, detail: INITRAMFS_PATH }
      : {
          name: 'agent',
          ok: false,
          detail: 'the agent initramfs is not built',
          fix: 'npm run build (needs gcc and libc6-dev)',
        },
  );
  for (const tool of ['mke2fs', 'debugfs']) {
    const found = findOnPath(tool, env.PATH);
    checks.push(
      found
        ? { name: tool, ok: true, detail: found }
        : { name: tool, ok: false, detail: 'not found', fix: 'sudo apt-get install e2fsprogs' },
    );
  }
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p) && readElfInfo(p).isStatic);
  checks.push(
    busybox
      ? { name: 'busybox', ok: true, detail: `${busybox} (static)` }
      : {
          name: 'busybox',
          ok: false,
          warning: true,
          detail: "no static busybox: `image build` will fetch Debian's busybox-static into the cache",
          fix: 'sudo apt-get install busybox-static (optional)',
        },
  );
  for (const [label, dir] of [
    ['cache space', paths.cacheDir],
    ['runtime space', existsSync(paths.runtimeDir) ? paths.runtimeDir : '/tmp'],
  ] as const) {
    let probe = dir;
    while (!existsSync(probe)) probe = probe.slice(0, probe.lastIndexOf('/')) || '/';
    const st = statfsSync(probe);
    const free = st.bavail * st.bsize;
    checks.push(
      free >= 1024 ** 3
        ? { name: label, ok: true, detail: `${formatSize(free)} free at ${probe}` }
        : {
            name: label,
            ok: false,
            warning: true,
            detail: `only ${formatSize(free)} free at ${probe}`,
            fix: 'free some space: images and overlays need a few hundred MiB',
          },
    );
  }
  return checks;
}
