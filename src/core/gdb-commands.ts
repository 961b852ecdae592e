// The gdb command line for debugging a running UML kernel. UML drives itself with signals that gdb would
// otherwise stop on: SIGSEGV is how a UML kernel sees its own page faults, SIGUSR1 kicks its idle loop and
// helpers, SIGIO and SIGALRM are its interrupts and timer, SIGWINCH its console. All must pass silently.
export const UML_SIGNALS = [
  'SIGSEGV',
  'SIGUSR1',
  'SIGIO',
  'SIGALRM',
  'SIGVTALRM',
  'SIGWINCH',
  'SIGCHLD',
] as const;

export interface GdbPlan {
  readonly kernelPath: string;
  /** Attach to this running kernel process. */
  readonly pid: number;
  /** The kernel's gdb helpers (vmlinux-gdb.py of a debug build), loaded when present. */
  readonly helperScript?: string;
  /** Extra commands the user asked for, run after attaching (before `continue`). */
  readonly commands?: readonly string[];
}

export function gdbArgs(plan: GdbPlan): string[] {
  const ex = (c: string): string[] => ['-ex', c];
  return [
    '-q',
    '-nx',
    ...ex('set pagination off'),
    ...ex('set confirm off'),
    ...(plan.helperScript
      ? [...['-iex', `add-auto-load-safe-path ${plan.helperScript}`], ...ex(`source ${plan.helperScript}`)]
      : []),
    // One `handle` for all of them: gdb prints its table once, not once per signal.
    ...ex(`handle ${UML_SIGNALS.join(' ')} nostop noprint pass`),
    // When the machine powers off, leave gdb too (instead of a prompt over a process that is gone).
    ...ex(`python gdb.events.exited.connect(lambda e: gdb.post_event(lambda: gdb.execute('quit')))`),
    ...ex(`attach ${plan.pid}`),
    ...(plan.commands ?? []).flatMap(ex),
    ...ex('continue'),
    plan.kernelPath,
  ];
}
