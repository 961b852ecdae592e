// `umlkit run --gdb`: what changes in a run whose kernel is debugged. gdb attaches to the kernel process as
// soon as it exists and owns the terminal (Ctrl-C stops the kernel at a gdb prompt, not the run); the boot has
// no time limit (a breakpoint may hold it for as long as you look); the host sandbox is off (gdb must see the
// kernel's real pid); stdin is not forwarded. The machine powers off as usual when the command ends.
import type { ChildProcess } from 'node:child_process';
import type { HostPaths } from '../host/paths.ts';
import type { CliContext, OptionSpec, OptionValues } from './command.ts';
import { listOption } from './parse-args.ts';

export const GDB_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'gdb',
    type: 'boolean',
    description: 'debug the kernel: gdb attaches to it on this terminal (UML signals passed through)',
  },
  {
    name: 'gdb-ex',
    type: 'string',
    value: 'CMD',
    multiple: true,
    description: 'with --gdb: a gdb command to run after attaching, e.g. "break panic"',
  },
];

export interface GdbMode {
  /** Fields of the run request that --gdb changes. */
  readonly request: {
    readonly sandbox: false;
    readonly bootTimeoutMs: number;
    readonly retryStalledBoot: false;
    readonly onKernelStarted: (pid: number) => void;
  };
  /** Wait for gdb to leave after the machine is gone (killing it if it does not). */
  finish(): Promise<void>;
}

/** The --gdb mode, or undefined without --gdb (then nothing of gdb's is loaded). */
export async function gdbMode(
  values: OptionValues,
  paths: HostPaths,
  ctx: CliContext,
  kernelPath: string,
): Promise<GdbMode | undefined> {
  if (values.gdb !== true) return undefined;
  const { checkGdbCanAttach, startGdb } = await import('../host/kernel-gdb.ts');
  const gdb = checkGdbCanAttach(ctx.env);
  let child: ChildProcess | undefined;
  return {
    request: {
      sandbox: false,
      bootTimeoutMs: 7 * 24 * 3600 * 1000,
      // A kernel stopped at a breakpoint prints nothing: that is not a stuck boot.
      retryStalledBoot: false,
      onKernelStarted: (pid) => {
        child = startGdb(gdb, pid, kernelPath, paths, listOption(values, 'gdb-ex'));
      },
    },
    async finish() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      // gdb leaves by itself once the kernel has exited (gdb-commands.ts); a SIGTERM at its prompt can
      // crash gdb 13, so only a gdb that is still there after a grace period is killed.
      const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    },
  };
}
