// Starts a UML kernel as its own process group and keeps what it prints: the guest console (fd 1)
// and UML's host-side diagnostics (fd 2) go to one console log plus a small in-memory tail.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';

export interface KernelProcessOptions {
  readonly kernelPath: string;
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly consoleLogPath: string;
  /** Lines kept in memory for error messages. */
  readonly tailLines?: number;
  /** Give the kernel a console input pipe on fd 0 (kept open for the machine's life). */
  readonly consoleInput?: boolean;
  /** Receives console output instead of the log file (the supervisor's rotating log and attached clients). */
  readonly sink?: (data: Buffer) => void;
  /** Run the kernel through this (the sandbox, src/host/sandbox/launcher.ts) instead of directly. */
  readonly launcher?: KernelLauncher;
}

/** A program that starts the kernel itself: its args already hold the kernel path and argv. */
export interface KernelLauncher {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** More fds for the launcher, from fd 4 on (e.g. bwrap's seccomp program). */
  readonly extraFds: readonly number[];
}

export interface KernelExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Largest console log of an ephemeral machine (long-lived ones rotate theirs: rotating-log.ts). */
export const CONSOLE_LOG_CAP = 8 * 1024 * 1024;

/** The agent line is the kernel's fd 3: a socketpair, so both directions run over one descriptor. */
export const AGENT_LINE_FD = 3;

export class KernelProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly agentLine: Duplex;
  readonly exited: Promise<KernelExit>;
  private readonly log: WriteStream | undefined;
  private readonly tail: string[] = [];
  private partial = '';
  private exitInfo: KernelExit | undefined;
  private logged = 0;
  /** When the console last printed (performance.now()), from the spawn on: a boot that stops printing is stuck. */
  lastOutputAt = performance.now();

  constructor(private readonly options: KernelProcessOptions) {
    this.log = options.sink
      ? undefined
      : createWriteStream(options.consoleLogPath, { flags: 'a', mode: 0o600 });
    // detached: UML becomes a process-group leader, so one kill(-pid) reaches all of its helper processes.
    const l = options.launcher;
    this.child = spawn(l ? l.command : options.kernelPath, l ? l.args : options.argv, {
      detached: true,
      env: l ? l.env : options.env,
      stdio: [options.consoleInput ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', ...(l?.extraFds ?? [])],
    });
    if (this.child.pid === undefined) throw new Error(`could not start ${options.kernelPath}`);
    this.pid = this.child.pid;
    this.agentLine = this.child.stdio[AGENT_LINE_FD] as Duplex;
    this.child.stdout?.on('data', (d: Buffer) => this.record(d));
    this.child.stderr?.on('data', (d: Buffer) => this.record(d));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = options.launcher ? launcherExit(code, signal) : { code, signal };
        resolve(this.exitInfo);
      });
      this.child.on('error', () => {
        this.exitInfo = { code: 127, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Bytes for the guest console (only with `consoleInput`). */
  writeConsole(data: Uint8Array): void {
    this.child.stdin?.write(data);
  }

  private record(data: Buffer): void {
    this.lastOutputAt = performance.now();
    if (this.options.sink) this.options.sink(data);
    else if (this.logged < CONSOLE_LOG_CAP) {
      // A guest can print without end (`yes > /dev/console`, ~3 MB/s): the file stops at the cap.
      const room = CONSOLE_LOG_CAP - this.logged;
      this.log?.write(data.length <= room ? data : data.subarray(0, room));
      this.logged += Math.min(data.length, room);
      if (this.logged >= CONSOLE_LOG_CAP)
        this.log?.write(`\n[umlkit: console log stopped at ${CONSOLE_LOG_CAP} bytes]\n`);
    }
    const lines = (this.partial + data.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      this.tail.push(line.replace(/\r$/, ''));
      if (this.tail.length > (this.options.tailLines ?? 300)) this.tail.shift();
    }
  }

  /** The last console lines, for error messages. */
  consoleTail(count = 20): string[] {
    const lines = this.partial ? [...this.tail, this.partial] : [...this.tail];
    return lines.slice(-count);
  }

  /** The panic message, if the kept console lines show one (the stack dump after it can be long). */
  panicMessage(): string | undefined {
    for (const line of this.consoleTail(1000)) {
      const m = /Kernel panic - not syncing: (.*)/.exec(line);
      if (m) return m[1];
    }
    return undefined;
  }

  /** Kill every process of the machine (UML helpers included) at once. */
  killGroup(signal: NodeJS.Signals = 'SIGKILL'): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  /** Wait for exit, killing the group after `graceMs`; then wait for the console streams to end. */
  async waitOrKill(graceMs: number): Promise<KernelExit> {
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.killGroup('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    const exit = await this.exited;
    // UML's helpers share the group; a kill after the leader's exit reaps any that linger (SIGKILL case).
    this.killGroup('SIGKILL');
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    return exit;
  }

  get consoleLogPath(): string {
    return this.options.consoleLogPath;
  }
}

/** bwrap reports a kernel killed by signal N as exit code 128+N: give it back as the signal. */
function launcherExit(code: number | null, signal: NodeJS.Signals | null): KernelExit {
  if (code === null || code <= 128) return { code, signal };
  const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
  return name ? { code: null, signal: name as NodeJS.Signals } : { code, signal };
}
