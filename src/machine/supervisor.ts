// The per-machine supervisor (`umlkit supervise NAME`, started detached by `umlkit start`): the parent of
// the kernel process, so it alone can see its exit status. It keeps the console (bounded log + attached
// clients), serves exec/console/stop over a unix socket, records state.json and events, and cleans up.
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import {
  encodeFrame,
  FrameDecoder,
  G,
  H,
  internalCommand,
  readI32,
  readResize,
  u32le,
} from '../core/agent-protocol.ts';
import { isUmlError } from '../core/errors.ts';
import { kernelArgv } from '../core/kernel-argv.ts';
import type { ExitReason, MachineState } from '../core/machine-status.ts';
import { checkOverlayPair } from '../host/cow/check-pair.ts';
import { acquireDiskLocks } from '../host/disk-lock.ts';
import { pickGuestRamDir } from '../host/guest-ram-dir.ts';
import { resolveKernel } from '../host/kernel.ts';
import { INITRAMFS_PATH, kernelEnv } from '../host/kernel-env.ts';
import { AGENT_LINE_FD, type KernelExit, KernelProcess } from '../host/kernel-process.ts';
import { checkDistinctFiles, checkShares } from '../host/launch-checks.ts';
import { appendEvent, machineFiles, readSpec, writeState } from '../host/machine-store.ts';
import type { HostPaths } from '../host/paths.ts';
import { currentProcessIdentity, processStartTime } from '../host/process-identity.ts';
import { RotatingLog, readLogTail } from '../host/rotating-log.ts';
import { prepareLaunch } from '../host/sandbox/launcher.ts';
import { machineBinds } from '../host/sandbox/machine-binds.ts';
import { MconsoleClient } from '../mconsole/client.ts';
import { AgentLink } from './agent-link.ts';
import { BOOT_STALL_MS, stallWatch } from './boot-stall.ts';
import { type AttachedNics, attachNics, configureGuest, watchSwitches } from './net-attach.ts';
import { refreshPeers } from './net-peers.ts';
import { spawnSupervisor } from './spawn-supervisor.ts';
import { CLIENT_SESSION, type SupervisorReply, type SupervisorRequest } from './supervisor-protocol.ts';

const BOOT_TIMEOUT_MS = 60_000;
/** More boots than this within REBOOT_WINDOW_MS is a reboot loop: the machine is stopped. */
const MAX_BOOTS_IN_WINDOW = 5;
const REBOOT_WINDOW_MS = 60_000;
/** The longest a boot's network set-up (own NICs, peers' hosts files) may hold `start` back. */
const NETWORK_READY_CAP_MS = 15_000;

type Env = Readonly<Record<string, string | undefined>>;

export async function supervise(name: string, paths: HostPaths, env: Env): Promise<number> {
  const spec = readSpec(paths, name);
  const files = machineFiles(paths, name);
  const me = currentProcessIdentity();
  let state: MachineState = {
    version: 1,
    phase: 'starting',
    supervisor: me,
    boots: 0,
    startedAt: new Date().toISOString(),
  };
  const save = (patch: Partial<MachineState>): void => {
    state = { ...state, ...patch } as MachineState;
    writeState(paths, name, state);
  };
  save({});
  appendEvent(paths, name, 'starting', { supervisor: me.pid });

  const fail = (reason: ExitReason, detail: string): number => {
    save({
      phase: 'exited',
      exit: { code: null, signal: null, reason, detail, at: new Date().toISOString() },
    });
    appendEvent(paths, name, 'exited', { reason, detail });
    return 1;
  };

  const consoleClients = new Set<Socket>();
  let loopDetected = false;
  let releaseLocks: (() => void) | undefined;
  let nics: AttachedNics | undefined;
  let kernel: KernelProcess;
  let launchKernel: () => KernelProcess = () => {
    throw new Error('the kernel was not prepared');
  };
  let consoleNote: (text: string) => void = () => {};
  try {
    const k = resolveKernel(spec.kernelPath, paths, env);
    checkOverlayPair(files.overlay, spec.imagePath);
    checkDistinctFiles([spec.imagePath, files.overlay, ...spec.disks.map((d) => d.path)]);
    const shares = checkShares(spec.shares ?? []);
    releaseLocks = acquireDiskLocks(
      paths.stateDir,
      [
        { path: spec.imagePath, mode: 'ro' },
        { path: files.overlay, mode: 'rw' },
        ...spec.disks.map((d) => ({ path: d.path, mode: d.readonly ? ('ro' as const) : ('rw' as const) })),
      ],
      { ...me, machine: name },
    );
    mkdirSync(files.runDir, { recursive: true, mode: 0o700 });
    rmSync(files.socket, { force: true });
    rmSync(files.umidDir, { recursive: true, force: true });
    const ram = pickGuestRamDir(paths);
    if (spec.nets?.length) {
      nics = await attachNics(paths, name, spec.nets, {
        ephemeral: false,
        forwards: spec.publish ?? [],
        env,
        logDir: files.dir,
        runDir: files.runDir,
        kernelPath: k.path,
      });
    }
    const argv = kernelArgv({
      umid: name,
      umlDir: files.runDir,
      memoryBytes: spec.memoryBytes,
      root: { kind: 'overlay', overlay: files.overlay, base: spec.imagePath },
      disks: spec.disks,
      initrd: INITRAMFS_PATH,
      agentFd: AGENT_LINE_FD,
      mode: 'boot',
      consoleInput: true,
      hostname: name,
      bootArgs: k.bootArgs ?? [],
      ...(nics ? { extraArgs: nics.kernelArgs } : {}),
      shares,
    });
    const kEnv = kernelEnv(k.path, ram.dir, files.runDir);
    const log = new RotatingLog(files.console);
    const sink = (data: Buffer): void => {
      log.write(data);
      for (const c of consoleClients) c.write(data);
    };
    consoleNote = (text) => sink(Buffer.from(`\r\n[umlkit] ${text}\r\n`));
    // One boot of the kernel process; a second only after a stalled first boot (below).
    launchKernel = () => {
      const launch = prepareLaunch(spec.sandbox !== false, {
        kernelPath: k.path,
        kernelArgv: argv,
        kernelEnv: kEnv,
        runDir: files.runDir,
        ...machineBinds({ image: spec.imagePath, overlay: files.overlay, disks: spec.disks, shares }),
        memoryBytes: spec.memoryBytes,
        env,
        network: nics !== undefined,
      });
      const started = new KernelProcess({
        kernelPath: k.path,
        argv,
        env: kEnv,
        consoleLogPath: files.console,
        consoleInput: true,
        sink,
        ...(launch.launcher ? { launcher: launch.launcher } : {}),
      });
      launch.release();
      save({
        kernel: { pid: started.pid, startTime: processStartTime(started.pid) ?? 0 },
        kernelPath: k.path,
        kernelVersion: k.version,
        sandbox: launch.report,
      });
      return started;
    };
    kernel = launchKernel();
  } catch (e) {
    await nics?.release();
    releaseLocks?.();
    return fail('boot-failed', isUmlError(e) ? `${e.code}: ${e.message}` : String(e));
  }

  let link = new AgentLink(kernel.agentLine);
  const unwatch = watchSwitches(paths, spec.nets ?? [], env);
  let stopRequested = false;
  const bootTimes: number[] = [];
  const startBootTimer = (): NodeJS.Timeout =>
    setTimeout(() => {
      appendEvent(paths, name, 'boot-timeout', { ms: BOOT_TIMEOUT_MS });
      kernel.killGroup('SIGKILL');
    }, BOOT_TIMEOUT_MS);
  let bootTimer: NodeJS.Timeout | undefined = startBootTimer();

  const onHello = (): void => {
    clearTimeout(bootTimer);
    bootTimer = undefined;
    const now = Date.now();
    bootTimes.push(now);
    while (bootTimes.length > 0 && now - (bootTimes[0] as number) > REBOOT_WINDOW_MS) bootTimes.shift();
    save({
      phase: stopRequested ? 'stopping' : 'running',
      boots: state.boots + 1,
      readyAt: new Date().toISOString(),
    });
    appendEvent(paths, name, state.boots > 1 ? 'rebooted' : 'ready', { boots: state.boots });
    if (bootTimes.length > MAX_BOOTS_IN_WINDOW) {
      appendEvent(paths, name, 'reboot-loop', { boots: bootTimes.length });
      loopDetected = true;
      kernel.killGroup('SIGKILL');
    }
    // A reboot during a stop would bring the guest back: finish the stop by force.
    if (stopRequested && state.boots > 1) kernel.killGroup('SIGKILL');
    // Every boot (a reboot too) starts with unconfigured NICs; images that configure themselves use ip=none.
    const networked = nics
      ? configureGuest(link, nics.guest).then(async (failed) => {
          if (failed) appendEvent(paths, name, 'net-config-failed', { detail: failed });
          await refreshPeers(paths, name, spec.nets ?? []);
        })
      : Promise.resolve();
    // `start` returns only after this, so that `ping PEER` works right after it: the NICs are configured and
    // the running peers know this machine's name. Capped: a peer that does not answer cannot hold a start.
    const cap = new Promise<void>((r) => setTimeout(r, NETWORK_READY_CAP_MS).unref());
    void Promise.race([networked, cap]).then(() => save({ networkReadyAt: new Date().toISOString() }));
  };
  link.onHello = onHello;

  const stopMachine = async (timeoutMs: number): Promise<void> => {
    if (kernel.hasExited) return;
    stopRequested = true;
    save({ phase: 'stopping' });
    appendEvent(paths, name, 'stopping', { timeoutMs });
    // Graceful: ctrl-alt-del through the management console (init runs its shutdown), or failing that
    // `poweroff` through the agent. Then the whole process group is killed when time runs out.
    const mconsole = new MconsoleClient(files.mconsole, { timeoutMs: 2000 });
    try {
      await mconsole.run('cad');
    } catch {
      link.exec(internalCommand(['poweroff']), {
        stdout: new PassThrough().resume(),
        stderr: new PassThrough().resume(),
      });
    } finally {
      mconsole.close();
    }
    await kernel.waitOrKill(timeoutMs);
  };

  const server = createServer((socket) => handleClient(socket));
  const handleClient = (socket: Socket): void => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const nl = buffered.indexOf(10);
      if (nl < 0) return;
      socket.off('data', onData);
      const rest = buffered.subarray(nl + 1);
      let req: SupervisorRequest;
      try {
        req = JSON.parse(buffered.subarray(0, nl).toString()) as SupervisorRequest;
      } catch {
        reply(socket, { ok: false, error: { code: 'USAGE', message: 'malformed supervisor request' } });
        return;
      }
      serveRequest(socket, req, rest);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  };

  const serveRequest = (socket: Socket, req: SupervisorRequest, rest: Buffer): void => {
    switch (req.op) {
      case 'status':
        reply(socket, { ok: true, state });
        return;
      case 'stop':
        void stopMachine(req.timeoutMs).then(() => reply(socket, { ok: true }));
        return;
      case 'kill':
        stopRequested = true;
        kernel.killGroup('SIGKILL');
        void kernel.exited.then(() => reply(socket, { ok: true }));
        return;
      case 'console': {
        socket.write(readLogTail(files.console, req.tailBytes ?? 4096));
        consoleClients.add(socket);
        socket.on('data', (d: Buffer) => kernel.writeConsole(d));
        if (rest.length > 0) kernel.writeConsole(rest);
        socket.on('close', () => consoleClients.delete(socket));
        return;
      }
      case 'exec':
        serveExec(socket, req, rest);
        return;
    }
  };

  const serveExec = (socket: Socket, req: Extract<SupervisorRequest, { op: 'exec' }>, rest: Buffer): void => {
    if (state.phase !== 'running') {
      socket.end(
        encodeFrame(G.ERROR, CLIENT_SESSION, Buffer.from(`state\n0\nthe machine is ${state.phase}\n`)),
      );
      return;
    }
    const frameWriter = (type: number): Writable =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (socket.destroyed) cb();
          else socket.write(encodeFrame(type, CLIENT_SESSION, chunk), () => cb());
        },
      });
    const stdin = new PassThrough();
    const session = link.exec(req.request, { stdout: frameWriter(G.STDOUT), stderr: frameWriter(G.STDERR) });
    session.pipeStdin(stdin);
    const decoder = new FrameDecoder();
    const onFrames = (chunk: Buffer): void => {
      for (const f of decoder.push(chunk)) {
        if (f.type === H.STDIN && !stdin.write(f.payload)) {
          socket.pause();
          stdin.once('drain', () => socket.resume());
        } else if (f.type === H.STDIN_EOF) stdin.end();
        else if (f.type === H.SIGNAL) session.signal(readI32(f.payload, 0));
        else if (f.type === H.RESIZE) {
          const { rows, cols } = readResize(f.payload);
          session.resize(rows, cols);
        }
      }
    };
    socket.on('data', onFrames);
    if (rest.length > 0) onFrames(rest);
    // A client that goes away takes its command with it, as a closed terminal would.
    socket.on('close', () => session.signal(9));
    void session.started.then((pid) => {
      if (pid > 0 && !socket.destroyed) socket.write(encodeFrame(G.STARTED, CLIENT_SESSION, u32le(pid)));
    });
    void session.exit.then((exit) => {
      if (socket.destroyed) return;
      for (const f of exit.failures) {
        socket.write(
          encodeFrame(
            G.ERROR,
            CLIENT_SESSION,
            Buffer.from(`${f.stage}\n${f.errno}\n${f.message}\n${f.detail}`),
          ),
        );
      }
      const payload = Buffer.alloc(8);
      payload.writeInt32LE(exit.code, 0);
      payload.writeInt32LE(exit.signal, 4);
      socket.end(encodeFrame(G.EXIT, CLIENT_SESSION, payload));
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(files.socket, () => resolve());
  }).catch((e: unknown) => {
    kernel.killGroup('SIGKILL');
    throw e;
  });

  const onSignal = (): void => {
    void stopMachine(10_000);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {});

  if (await firstBootStalled(kernel, link, () => stopRequested)) {
    // Nothing of the guest has run yet (no agent), so this is a power cycle before init: boot again, once,
    // on the same disks. Seen with the fast 6.1 profile's IRQ-stack livelock (docs/kernels.md).
    appendEvent(paths, name, 'boot-stalled', { ms: BOOT_STALL_MS, kernel: kernel.pid });
    kernel.killGroup('SIGKILL');
    await kernel.waitOrKill(2000);
    if (!stopRequested) {
      consoleNote(`the kernel printed nothing for ${BOOT_STALL_MS / 1000} s during boot; booting it again`);
      rmSync(files.umidDir, { recursive: true, force: true });
      clearTimeout(bootTimer);
      try {
        kernel = launchKernel();
        link = new AgentLink(kernel.agentLine);
        link.onHello = onHello;
        bootTimer = startBootTimer();
        appendEvent(paths, name, 'booting-again', { kernel: kernel.pid });
      } catch (e) {
        appendEvent(paths, name, 'boot-failed', {
          detail: isUmlError(e) ? `${e.code}: ${e.message}` : String(e),
        });
      }
    }
  }
  const exit = await kernel.exited;
  clearTimeout(bootTimer);
  await kernel.waitOrKill(1000);
  const reason = classifyExit(exit, kernel, stopRequested, loopDetected, state.boots);
  save({
    phase: 'exited',
    exit: {
      code: exit.code,
      signal: exit.signal,
      reason: reason.reason,
      ...(reason.detail ? { detail: reason.detail } : {}),
      at: new Date().toISOString(),
    },
  });
  appendEvent(paths, name, 'exited', { code: exit.code, signal: exit.signal, reason: reason.reason });
  for (const c of consoleClients) c.end();
  server.close();
  unwatch();
  await nics?.release();
  releaseLocks?.();
  rmSync(files.runDir, { recursive: true, force: true });
  // `--on-reboot-loop restart`: one fresh boot by a new supervisor; a loop in that round stops for good.
  if (
    reason.reason === 'reboot-loop' &&
    spec.onRebootLoop === 'restart' &&
    env.UMLKIT_RESTART_ROUND !== '1'
  ) {
    appendEvent(paths, name, 'restarting', { after: 'reboot-loop' });
    spawnSupervisor(name, files, { ...process.env, ...env, UMLKIT_RESTART_ROUND: '1' } as NodeJS.ProcessEnv);
  }
  return 0;
}

/**
 * Whether the first boot stalls: no console output for BOOT_STALL_MS before the agent's hello (boot-stall.ts).
 * False at the hello or when the kernel exits; true after that silence, unless a stop was asked for meanwhile.
 */
async function firstBootStalled(
  kernel: KernelProcess,
  link: AgentLink,
  stopping: () => boolean,
): Promise<boolean> {
  const stall = stallWatch(kernel);
  const first = await Promise.race([
    link.hello.then(
      () => 'hello' as const,
      () => 'closed' as const,
    ),
    kernel.exited.then(() => 'exited' as const),
    stall.promise.then(() => 'stalled' as const),
  ]);
  stall.cancel();
  return first === 'stalled' && !stopping();
}

function classifyExit(
  exit: KernelExit,
  kernel: KernelProcess,
  stopRequested: boolean,
  loop: boolean,
  boots: number,
): { reason: ExitReason; detail?: string } {
  if (loop)
    return {
      reason: 'reboot-loop',
      detail: `more than ${MAX_BOOTS_IN_WINDOW} boots within ${REBOOT_WINDOW_MS / 1000} s`,
    };
  if (stopRequested) return { reason: 'stopped' };
  const panic = kernel.panicMessage();
  if (panic || exit.signal === 'SIGABRT') return { reason: 'panic', detail: panic ?? 'the kernel aborted' };
  if (boots === 0) return { reason: 'boot-failed', detail: kernel.consoleTail(3).join(' | ') };
  if (exit.code === 0) return { reason: 'poweroff' };
  return {
    reason: 'kernel-died',
    detail: exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`,
  };
}

function reply(socket: Socket, value: SupervisorReply): void {
  if (!socket.destroyed) socket.end(`${JSON.stringify(value)}\n`);
}
