// An ephemeral machine: boot on a fresh overlay of a read-only image, run one command through the agent,
// power off, clean up. This is `umlkit run` as a library function.
import { closeSync, existsSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ExecRequest } from '../core/agent-protocol.ts';
import { checkKernelPath, type DiskSpec } from '../core/disk-spec.ts';
import { quote, UmlError } from '../core/errors.ts';
import type { ShareSpec } from '../core/kernel-argv.ts';
import { kernelArgv } from '../core/kernel-argv.ts';
import type { NicSpec, PortForward } from '../core/net/nic-spec.ts';
import { refuseSharesWithoutSandbox } from '../core/share-spec.ts';
import { createOverlay } from '../host/cow/create.ts';
import { acquireDiskLocks } from '../host/disk-lock.ts';
import { checkDiskFile } from '../host/file-checks.ts';
import { pickGuestRamDir } from '../host/guest-ram-dir.ts';
import type { Kernel } from '../host/kernel.ts';
import { noteBootLog } from '../host/kernel-boot-args.ts';
import { INITRAMFS_PATH, kernelEnv } from '../host/kernel-env.ts';
import { AGENT_LINE_FD, KernelProcess } from '../host/kernel-process.ts';
import { checkDistinctFiles, checkMemory, checkShares } from '../host/launch-checks.ts';
import type { HostPaths } from '../host/paths.ts';
import { currentProcessIdentity, processStartTime } from '../host/process-identity.ts';
import { createRunDir, type RunOwner, sweepStaleRunDirs, writeOwner } from '../host/run-dir.ts';
import { runLogPath as preservedLog, preserveRunLog } from '../host/run-logs.ts';
import { trace } from '../host/run-trace.ts';
import { prepareLaunch } from '../host/sandbox/launcher.ts';
import { machineBinds } from '../host/sandbox/machine-binds.ts';
import type { AgentFailure, Session } from './agent-link.ts';
import type { bootFailureError } from './boot-failure.ts';
import { BOOT_STALL_MS, stallWatch } from './boot-stall.ts';
import type { AttachedNics } from './net-attach.ts';

export interface RunRequest {
  readonly kernel: Kernel;
  readonly imagePath: string;
  readonly memoryBytes: number;
  readonly disks: readonly DiskSpec[];
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly workdir: string;
  readonly tty: boolean;
  readonly rows?: number;
  readonly cols?: number;
  readonly timeoutMs?: number;
  readonly bootTimeoutMs: number;
  /**
   * Boot again, once, when the first boot stalls: no console output for BOOT_STALL_MS and no agent yet
   * (default on; off under a debugger, where a kernel stopped at a breakpoint is silent on purpose).
   */
  readonly retryStalledBoot?: boolean;
  readonly keep: boolean;
  readonly stdin?: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly paths: HostPaths;
  readonly signal?: AbortSignal;
  /** Called once the command runs, e.g. to forward terminal resizes. */
  readonly onSession?: (session: Session) => void;
  /**
   * Foreground boot (`umlkit boot`): the image's own init runs with the console on these streams, and the
   * machine lives until the guest powers off. `argv` is then ignored.
   */
  readonly console?: { readonly input: Readable; readonly output: Writable };
  readonly onPhase?: (phase: RunPhase) => void;
  /** Called with the kernel's pid as soon as it runs (`run --gdb` attaches a debugger to it). */
  readonly onKernelStarted?: (pid: number) => void;
  /** NICs (`--net`), configured through the agent before the command runs; `-p` forwards (uplink). */
  readonly nics?: readonly NicSpec[];
  readonly forwards?: readonly PortForward[];
  /** The caller's environment, for switches started on demand. */
  readonly netEnv?: Readonly<Record<string, string | undefined>>;
  /** Run the kernel in the host sandbox (default true); false only for an explicit `--no-sandbox`. */
  readonly sandbox?: boolean;
  readonly shares?: readonly ShareSpec[];
}

export type RunPhase = 'booting' | 'running' | 'powering-off' | 'done';

export interface RunResult {
  readonly exitCode: number;
  readonly machineId: string;
  /** With `keep`: the overlay that holds everything the guest wrote to its root disk. */
  readonly keptOverlay?: string;
  readonly timingsMs: { readonly boot: number; readonly command: number; readonly powerOff: number };
}

const POWER_OFF_GRACE_MS = 10_000;

export async function runMachine(req: RunRequest): Promise<RunResult> {
  // Syntax first: a path UML cannot parse is refused whether or not the file exists.
  checkKernelPath(req.imagePath, 'image');
  for (const d of req.disks) checkKernelPath(d.path, 'disk');
  checkDiskFile(req.imagePath, false, 'image');
  for (const d of req.disks) checkDiskFile(d.path, !d.readonly, 'disk');
  checkDistinctFiles([req.imagePath, ...req.disks.map((d) => d.path)]);
  checkMemory(req.memoryBytes);
  const sandbox = req.sandbox !== false;
  refuseSharesWithoutSandbox(req.shares ?? [], sandbox);
  const shares = checkShares(req.shares ?? []);
  if (!existsSync(INITRAMFS_PATH)) {
    throw new UmlError('INTERNAL', `the agent initramfs ${quote(INITRAMFS_PATH)} is missing`, {
      hint: 'run `npm run build`',
    });
  }
  const ramDir = pickGuestRamDir(req.paths);
  trace('checked');

  const id = `run-${randomHex(4)}`;
  sweepStaleRunDirs(req.paths.runtimeDir);
  const owner: RunOwner = { version: 1, owner: currentProcessIdentity() };
  const runDir = createRunDir(req.paths.runtimeDir, id, owner);
  const overlayDir = req.keep ? join(req.paths.stateDir, 'overlays') : runDir;
  mkdirSync(overlayDir, { recursive: true, mode: 0o700 });
  const overlay = join(overlayDir, `${id}.cow`);
  const consoleLog = join(runDir, 'console.log');
  trace('run dir');

  let releaseLocks: (() => void) | undefined;
  let nics: AttachedNics | undefined;
  let unwatch: (() => void) | undefined;
  let kernel: KernelProcess | undefined;
  let succeeded = false;
  const t0 = nowMs();
  try {
    releaseLocks = acquireDiskLocks(
      req.paths.stateDir,
      [
        { path: req.imagePath, mode: 'ro' },
        ...req.disks.map((d) => ({ path: d.path, mode: d.readonly ? ('ro' as const) : ('rw' as const) })),
      ],
      { ...owner.owner, machine: id },
    );
    trace('locks');
    // Our COW writer, not UML's: the overlay exists (and is checked) before the kernel runs. Not
    // fsynced: an ephemeral overlay does not outlive a host crash anyway.
    createOverlay(overlay, req.imagePath, { stateDir: req.paths.stateDir, durable: false });
    trace('overlay');
    // Networking code is loaded only by a run with NICs.
    const net = req.nics?.length ? await import('./net-attach.ts') : undefined;
    if (net && req.nics?.length) {
      const netEnv = req.netEnv ?? process.env;
      nics = await net.attachNics(req.paths, id, req.nics, {
        ephemeral: true,
        forwards: req.forwards ?? [],
        env: netEnv,
        logDir: runDir,
        runDir,
        kernelPath: req.kernel.path,
      });
      unwatch = net.watchSwitches(req.paths, req.nics, netEnv);
    }
    const argv = kernelArgv({
      umid: id,
      umlDir: runDir,
      memoryBytes: req.memoryBytes,
      root: { kind: 'overlay', overlay, base: req.imagePath },
      disks: req.disks,
      initrd: INITRAMFS_PATH,
      agentFd: AGENT_LINE_FD,
      mode: req.console ? 'boot' : 'run',
      consoleInput: req.console !== undefined,
      bootArgs: req.kernel.bootArgs ?? [],
      ...(nics ? { extraArgs: nics.kernelArgs } : {}),
      shares,
    });
    const env = kernelEnv(req.kernel.path, ramDir.dir, runDir);
    // One boot attempt: the sandboxed kernel, the agent line, and what happened first.
    const boot = async (watchStall: boolean) => {
      const launch = prepareLaunch(sandbox, {
        kernelPath: req.kernel.path,
        kernelArgv: argv,
        kernelEnv: env,
        runDir,
        ...machineBinds({ image: req.imagePath, overlay, disks: req.disks, shares }),
        memoryBytes: req.memoryBytes,
        env: process.env,
        network: nics !== undefined,
      });
      trace('launch prepared');
      req.onPhase?.('booting');
      const consoleOut = req.console?.output;
      const k = new KernelProcess({
        kernelPath: req.kernel.path,
        argv,
        env,
        consoleLogPath: consoleLog,
        ...(req.console ? { consoleInput: true } : {}),
        ...(consoleOut ? { sink: (d: Buffer) => consoleOut.write(d) } : {}),
        ...(launch.launcher ? { launcher: launch.launcher } : {}),
      });
      kernel = k;
      launch.release();
      trace('spawned');
      req.onKernelStarted?.(k.pid);
      if (req.console) req.console.input.on('data', (d: Buffer) => k.writeConsole(d));
      const startTime = processStartTime(k.pid);
      if (startTime !== undefined) writeOwner(runDir, { ...owner, kernel: { pid: k.pid, startTime } });
      const l = new (await agentLinkModule).AgentLink(k.agentLine);
      l.hello.then(
        () => trace('hello'),
        () => {},
      );
      const bootTimer = timer(req.bootTimeoutMs);
      const stall = watchStall ? stallWatch(k) : undefined;
      const outcome = await Promise.race([
        l.hello.then(
          () => 'hello' as const,
          () => 'closed' as const,
        ),
        k.exited.then(() => 'exited' as const),
        bootTimer.promise.then(() => 'timeout' as const),
        aborted.promise.then(() => 'aborted' as const),
        ...(stall ? [stall.promise.then(() => 'stalled' as const)] : []),
      ]);
      bootTimer.cancel();
      stall?.cancel();
      return { k, l, outcome };
    };
    // The agent line's code loads while the kernel boots (its bytes wait in the socket until then).
    const agentLinkModule = import('./agent-link.ts');
    const aborted = abortPromise(req.signal);
    let attempt = await boot(req.retryStalledBoot !== false && !req.console);
    if (attempt.outcome === 'stalled') {
      // Nothing of the guest has run yet (no agent): boot it again, from a fresh overlay. Seen with the
      // fast 6.1 profile, whose IRQ-stack code can livelock during the last initcalls (docs/kernels.md).
      req.stderr.write(
        `umlkit: warning: the kernel printed nothing for ${BOOT_STALL_MS / 1000} s during boot; booting it again (its console log: ${preservedLog(req.paths, id)})\n`,
      );
      attempt.k.killGroup('SIGKILL');
      await attempt.k.waitOrKill(2000);
      preserveRunLog(req.paths, id, consoleLog);
      rmSync(join(runDir, id), { recursive: true, force: true });
      rmSync(overlay, { force: true });
      createOverlay(overlay, req.imagePath, { stateDir: req.paths.stateDir, durable: false });
      attempt = await boot(false);
    }
    const { k: booted, l: link, outcome: first } = attempt;
    kernel = booted;
    if (req.console && first === 'hello') {
      // Foreground boot: nothing to run; the guest's own init owns the console until it powers off.
      const end = await Promise.race([
        kernel.exited.then(() => 'exited' as const),
        aborted.promise.then(() => 'aborted' as const),
      ]);
      if (end === 'aborted') throw interrupted(preservedLog(req.paths, id));
      const exit = await kernel.waitOrKill(1000);
      succeeded = exit.signal !== 'SIGABRT';
      if (!succeeded) throw await bootFailure('died', exit, kernel, 0, preservedLog(req.paths, id));
      return {
        exitCode: exit.code ?? 1,
        machineId: id,
        ...(req.keep ? { keptOverlay: overlay } : {}),
        timingsMs: { boot: nowMs() - t0, command: 0, powerOff: 0 },
      };
    }
    if (first !== 'hello') {
      if (first === 'aborted') throw interrupted(preservedLog(req.paths, id));
      kernel.killGroup('SIGKILL');
      const exit = await kernel.waitOrKill(2000);
      throw await bootFailure(
        first === 'timeout' ? 'timeout' : 'exited',
        exit,
        kernel,
        req.bootTimeoutMs,
        preservedLog(req.paths, id),
      );
    }
    const bootMs = nowMs() - t0;
    if (link.bootFailures.length > 0) {
      const f = link.bootFailures[0] as AgentFailure;
      await kernel.waitOrKill(5000);
      throw new UmlError(
        'IMAGE_UNREADABLE',
        `the guest could not mount image ${quote(req.imagePath)} as its root: ${f.message}`,
        {
          details: `full console log: ${preservedLog(req.paths, id)}`,
          hint: 'the image must hold a filesystem the kernel knows (ext4, ext3, ext2); check it with `e2fsck -fn`',
        },
      );
    }

    if (net && nics) {
      const failed = await net.configureGuest(link, nics.guest);
      if (failed) req.stderr.write(`umlkit: warning: configuring the guest's network failed: ${failed}\n`);
    }
    req.onPhase?.('running');
    const request: ExecRequest = {
      argv: req.argv,
      env: req.env,
      cwd: req.workdir,
      tty: req.tty,
      rows: req.rows ?? 24,
      cols: req.cols ?? 80,
      ...(req.stdin ? {} : { noStdin: true }),
    };
    const session = link.exec(request, { stdout: req.stdout, stderr: req.stderr });
    trace('exec sent');
    if (req.stdin) session.pipeStdin(req.stdin);
    else session.endStdin(); // a tty still gets its ^D; otherwise the agent already knows
    req.onSession?.(session);
    const runTimer = req.timeoutMs ? timer(req.timeoutMs) : undefined;
    const outcome = await Promise.race([
      session.exit.then((e) => ({ kind: 'exit' as const, exit: e })),
      kernel.exited.then(() => ({ kind: 'kernel-exited' as const })),
      aborted.promise.then(() => ({ kind: 'aborted' as const })),
      ...(runTimer ? [runTimer.promise.then(() => ({ kind: 'timeout' as const }))] : []),
    ]);
    runTimer?.cancel();
    trace('command exited');
    const commandMs = nowMs() - t0 - bootMs;
    if (outcome.kind === 'aborted') throw interrupted(preservedLog(req.paths, id));
    if (outcome.kind === 'kernel-exited') {
      const exit = await kernel.waitOrKill(1000);
      throw await bootFailure('died', exit, kernel, 0, preservedLog(req.paths, id));
    }
    if (outcome.kind === 'timeout') {
      throw new UmlError(
        'RUN_TIMEOUT',
        `the command ${quote(req.argv.join(' '))} did not finish within ${(req.timeoutMs ?? 0) / 1000} s`,
        {
          details: `full console log: ${preservedLog(req.paths, id)}`,
          hint: 'raise --timeout, or check what the command waits for',
          exitCode: 124,
        },
      );
    }
    if (outcome.exit.failures.some((f) => f.stage === 'line')) {
      // The agent line closed under the command: the kernel is going down (a panic closes the line
      // before the process exits). Report what happened to the kernel, not a made-up exit status.
      const exit = await kernel.waitOrKill(5000);
      throw await bootFailure('died', exit, kernel, 0, preservedLog(req.paths, id));
    }
    if (outcome.exit.failures.length > 0) {
      const { describeFailure } = await import('./describe-failure.ts');
      for (const f of outcome.exit.failures) req.stderr.write(describeFailure(f, req.argv[0] ?? ''));
    }
    req.onPhase?.('powering-off');
    const tOff = nowMs();
    link.powerOff(outcome.exit.code);
    await kernel.waitOrKill(POWER_OFF_GRACE_MS);
    trace('kernel exited');
    noteBootLog(req.paths, req.kernel.path, req.kernel.bootArgs ?? [], kernel.consoleTail(1000).join('\n'));
    succeeded = true;
    req.onPhase?.('done');
    return {
      exitCode: outcome.exit.code,
      machineId: id,
      ...(req.keep ? { keptOverlay: overlay } : {}),
      timingsMs: { boot: bootMs, command: commandMs, powerOff: nowMs() - tOff },
    };
  } finally {
    if (kernel && !kernel.hasExited) {
      kernel.killGroup('SIGTERM');
      await kernel.waitOrKill(2000);
    }
    // The error names this copy; the logs directory keeps only the newest few (host/run-logs.ts).
    if (!succeeded && existsSync(consoleLog)) preserveRunLog(req.paths, id, consoleLog);
    unwatch?.();
    await nics?.release();
    releaseLocks?.();
    if (req.keep && !succeeded) rmSync(overlay, { force: true });
    rmSync(runDir, { recursive: true, force: true });
    trace('cleaned up');
  }
}

function interrupted(logPath: string): UmlError {
  return new UmlError('INTERRUPTED', 'interrupted: the machine was stopped', {
    details: `full console log: ${logPath}`,
    exitCode: 130,
  });
}

/** The error for a kernel that died, hung or panicked (its module is loaded only then). */
async function bootFailure(...args: Parameters<typeof bootFailureError>): Promise<UmlError> {
  return (await import('./boot-failure.ts')).bootFailureError(...args);
}

/** Milliseconds from a monotonic clock (process.hrtime: the performance global loads modules of its own). */
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Random hex from the kernel's pool, without loading node:crypto for four bytes. */
function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, buf);
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}

function timer(ms: number): { promise: Promise<void>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    handle = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(handle) };
}

function abortPromise(signal: AbortSignal | undefined): { promise: Promise<void> } {
  if (!signal) return { promise: new Promise(() => {}) };
  return {
    promise: new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    }),
  };
}
