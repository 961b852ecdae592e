// `umlkit run --gdb`: gdb attached to the machine's kernel process on the user's terminal, with UML's own
// signals passed through (src/core/gdb-commands.ts). Attaching, not starting the kernel under gdb, is what
// the UML documentation recommends: the kernel boots as usual and gdb stops it only where asked.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import { gdbArgs } from '../core/gdb-commands.ts';
import { findStoredKernel, kernelWorkDir } from './kernel-store.ts';
import type { HostPaths } from './paths.ts';
import { requireTool } from './tool.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Check gdb may attach to a process it did not start: Yama's ptrace_scope 1 or more allows that only to
 * descendants (or with CAP_SYS_PTRACE), and the kernel is umlkit's child, not gdb's.
 * @throws {UmlError} TOOL_MISSING, HOST_UNSUITABLE
 */
export function checkGdbCanAttach(env: Env): string {
  const gdb = requireTool('gdb', env);
  let scope = 0;
  try {
    scope = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {}
  if (scope >= 1 && process.getuid?.() !== 0) {
    throw new UmlError('HOST_UNSUITABLE', `gdb cannot attach here: kernel.yama.ptrace_scope is ${scope}`, {
      hint: 'allow it for this session: sudo sysctl kernel.yama.ptrace_scope=0 (or run gdb -p on the kernel pid as root)',
    });
  }
  return gdb;
}

/** The debug build's gdb helpers (lx-dmesg, lx-ps, ...), when the kernel is a cached build that has them. */
function helperScript(paths: HostPaths, kernelPath: string): string | undefined {
  const key = findStoredKernel(paths, kernelPath)?.manifest?.key;
  const script = key ? join(kernelWorkDir(paths), 'obj', key.slice(0, 16), 'vmlinux-gdb.py') : undefined;
  return script && existsSync(script) ? script : undefined;
}

/** gdb on this terminal, attached to the kernel process `pid`; the caller ends it when the machine is gone. */
export function startGdb(
  gdb: string,
  pid: number,
  kernelPath: string,
  paths: HostPaths,
  commands: readonly string[] = [],
): ChildProcess {
  const script = helperScript(paths, kernelPath);
  const child = spawn(
    gdb,
    gdbArgs({ kernelPath, pid, commands, ...(script ? { helperScript: script } : {}) }),
    { stdio: 'inherit' },
  );
  child.on('error', (e) => {
    process.stderr.write(`umlkit: cannot start ${quote(gdb)}: ${e.message}\n`);
  });
  return child;
}
