// What a machine's status is, derived from its recorded state and what is alive right now. Pure: the
// caller observes the processes, this decides. `ls` and `inspect` never throw for a sick machine.
import type { SandboxLimits } from './sandbox-argv.ts';

export type MachinePhase = 'starting' | 'running' | 'stopping' | 'exited';
export type ExitReason =
  | 'poweroff'
  | 'stopped'
  | 'killed'
  | 'panic'
  | 'kernel-died'
  | 'boot-failed'
  | 'reboot-loop';

export interface Identity {
  readonly pid: number;
  readonly startTime: number;
}

/** How a kernel was confined: one line per layer, what is in force or why it is not. */
export interface SandboxRecord {
  readonly enabled: boolean;
  readonly layers: Readonly<Record<string, string>>;
  readonly limits?: SandboxLimits & { readonly ramTmpfsBytes: number };
}

/** state.json, written by the supervisor (version 1). */
export interface MachineState {
  readonly version: 1;
  readonly phase: MachinePhase;
  readonly supervisor: Identity;
  readonly kernel?: Identity;
  readonly kernelPath?: string;
  readonly kernelVersion?: string;
  readonly boots: number;
  readonly startedAt: string;
  readonly readyAt?: string;
  /** Set after each boot once the guest's NICs are configured and its peers know its name (or gave up). */
  readonly networkReadyAt?: string;
  readonly paused?: boolean;
  /** The sandbox the kernel runs in, layer by layer (src/host/sandbox/launcher.ts). */
  readonly sandbox?: SandboxRecord;
  readonly exit?: {
    readonly code: number | null;
    readonly signal: string | null;
    readonly reason: ExitReason;
    readonly detail?: string;
    readonly at: string;
  };
}

export type MachineStatus =
  | 'created'
  | 'starting'
  | 'running'
  | 'paused'
  | 'stopping'
  | 'stopped'
  | 'crashed'
  | 'broken';

export interface DerivedStatus {
  readonly status: MachineStatus;
  readonly reason?: string;
  readonly problems: readonly string[];
}

export interface Observed {
  readonly state: MachineState | undefined;
  /** Set when state.json exists but cannot be read as version 1. */
  readonly stateError?: string;
  readonly supervisorAlive: boolean;
  readonly kernelAlive: boolean;
}

const CLEAN: readonly ExitReason[] = ['poweroff', 'stopped'];

export function deriveStatus(o: Observed): DerivedStatus {
  if (o.stateError) return { status: 'broken', problems: [o.stateError] };
  const s = o.state;
  if (!s) return { status: 'created', problems: [] };
  if (s.phase === 'exited') {
    const exit = s.exit;
    const problems = o.kernelAlive
      ? [`the kernel (pid ${s.kernel?.pid}) is still running after its exit was recorded`]
      : [];
    if (problems.length) return { status: 'broken', problems };
    if (!exit || CLEAN.includes(exit.reason))
      return { status: 'stopped', problems: [], ...(exit ? { reason: exit.reason } : {}) };
    return {
      status: 'crashed',
      reason: exit.detail ? `${exit.reason}: ${exit.detail}` : exit.reason,
      problems: [],
    };
  }
  if (!o.supervisorAlive) {
    if (o.kernelAlive) {
      return {
        status: 'broken',
        problems: [
          `the supervisor (pid ${s.supervisor.pid}) is gone but the kernel (pid ${s.kernel?.pid}) still runs`,
        ],
      };
    }
    return { status: 'crashed', reason: 'the supervisor was killed', problems: [] };
  }
  if (s.phase === 'running' && !o.kernelAlive) {
    return { status: 'broken', problems: ['the supervisor runs but the kernel is gone'] };
  }
  if (s.phase === 'running') return { status: s.paused ? 'paused' : 'running', problems: [] };
  return { status: s.phase, problems: [] };
}
