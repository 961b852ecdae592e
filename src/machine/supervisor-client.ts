// Talks to a machine's supervisor: one-shot requests (status, stop, kill), exec sessions and the console.
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  type ExecRequest,
  encodeFrame,
  FrameDecoder,
  G,
  H,
  readI32,
  resizePayload,
  STDIN_WINDOW_BYTES,
  u32le,
} from '../core/agent-protocol.ts';
import { quote, UmlError } from '../core/errors.ts';
import { connectUnix, requestJsonLine } from '../host/unix-stream.ts';
import { type AgentFailure, parseFailure } from './agent-link.ts';
import { CLIENT_SESSION, type SupervisorReply, type SupervisorRequest } from './supervisor-protocol.ts';

const open = (socketPath: string, machine: string, timeoutMs: number): Promise<Socket> =>
  connectUnix(socketPath, timeoutMs, (why) => unreachable(machine, socketPath, why));

const unreachable = (machine: string, socketPath: string, why: string): UmlError =>
  new UmlError(
    'SUPERVISOR_UNREACHABLE',
    `the supervisor of machine ${quote(machine)} does not answer at ${quote(socketPath)} (${why})`,
    {
      hint: `check \`umlkit inspect ${machine}\`; \`umlkit start ${machine}\` recovers a machine whose supervisor died`,
    },
  );

/** Send one request and read its JSON reply (the supervisor closes the connection after it). */
export async function requestSupervisor(
  socketPath: string,
  machine: string,
  req: SupervisorRequest,
  timeoutMs: number,
): Promise<SupervisorReply> {
  return (await requestJsonLine(socketPath, req, {
    connectTimeoutMs: Math.min(timeoutMs, 3000),
    replyTimeoutMs: timeoutMs,
    unreachable: (why) => unreachable(machine, socketPath, why),
  })) as SupervisorReply;
}

export interface ExecIo {
  readonly stdin?: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export interface ExecHandle {
  readonly exit: Promise<{ code: number; signal: number; failures: AgentFailure[] }>;
  signal(signo: number): void;
  resize(rows: number, cols: number): void;
}

/** Run a command in a running machine through its supervisor. */
export async function execViaSupervisor(
  socketPath: string,
  machine: string,
  request: ExecRequest,
  io: ExecIo,
): Promise<ExecHandle> {
  const socket = await open(socketPath, machine, 3000);
  socket.setNoDelay(true);
  const send = (type: number, payload?: Uint8Array): void => {
    if (!socket.destroyed) socket.write(encodeFrame(type, CLIENT_SESSION, payload));
  };
  const failures: AgentFailure[] = [];
  const exit = new Promise<{ code: number; signal: number; failures: AgentFailure[] }>((resolve) => {
    const decoder = new FrameDecoder();
    let done = false;
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.type === G.STDOUT) writeWithBackpressure(io.stdout, f.payload, socket);
        else if (f.type === G.STDERR) writeWithBackpressure(io.stderr, f.payload, socket);
        else if (f.type === G.ERROR) failures.push(parseFailure(f.payload));
        else if (f.type === G.EXIT) {
          done = true;
          resolve({ code: readI32(f.payload, 0), signal: readI32(f.payload, 4), failures });
        }
      }
    });
    socket.on('close', () => {
      if (!done)
        resolve({
          code: 255,
          signal: 0,
          failures: [
            ...failures,
            { stage: 'line', errno: 0, message: 'the supervisor closed the connection', detail: '' },
          ],
        });
    });
    socket.on('error', () => {});
  });
  // Without stdin the agent needs no stdin pipe and no EOF frame (a guest system call and a line message
  // saved per exec). The EOF still goes to the supervisor: one that predates the flag forwards it.
  const sent: ExecRequest = io.stdin || request.tty ? request : { ...request, noStdin: true };
  socket.write(`${JSON.stringify({ op: 'exec', request: sent } satisfies SupervisorRequest)}\n`);
  if (io.stdin) {
    // The supervisor applies the agent's stdin window; the socket's own buffer gives back-pressure here.
    io.stdin.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; at += STDIN_WINDOW_BYTES)
        send(H.STDIN, chunk.subarray(at, at + STDIN_WINDOW_BYTES));
      if (socket.writableNeedDrain) {
        io.stdin?.pause();
        socket.once('drain', () => io.stdin?.resume());
      }
    });
    io.stdin.on('end', () => send(H.STDIN_EOF));
  } else {
    send(H.STDIN_EOF);
  }
  void exit.then(() => io.stdin?.pause());
  return {
    exit,
    signal: (signo) => send(H.SIGNAL, u32le(signo)),
    resize: (rows, cols) => send(H.RESIZE, resizePayload(rows, cols)),
  };
}

// One drain listener per blocked stream: a listener per refused write would pile up (and warn).
const blockedStreams = new WeakSet<Writable>();
function writeWithBackpressure(stream: Writable, data: Uint8Array, socket: Socket): void {
  if (stream.write(data) || blockedStreams.has(stream)) return;
  blockedStreams.add(stream);
  socket.pause();
  stream.once('drain', () => {
    blockedStreams.delete(stream);
    socket.resume();
  });
}

/**
 * Attach to the console: recent output first, then live; input goes to the guest console. The detach
 * byte (Ctrl-] by default) ends the attachment and leaves the machine running.
 */
export async function attachConsole(
  socketPath: string,
  machine: string,
  io: { stdin: Readable; stdout: Writable },
  detachByte = 0x1d,
): Promise<'detached' | 'closed'> {
  const socket = await open(socketPath, machine, 3000);
  socket.write(`${JSON.stringify({ op: 'console', tailBytes: 8192 } satisfies SupervisorRequest)}\n`);
  socket.pipe(io.stdout, { end: false });
  return new Promise((resolve) => {
    const onInput = (chunk: Buffer): void => {
      const at = chunk.indexOf(detachByte);
      if (at >= 0) {
        if (at > 0) socket.write(chunk.subarray(0, at));
        finish('detached');
        return;
      }
      socket.write(chunk);
    };
    const finish = (how: 'detached' | 'closed'): void => {
      io.stdin.off('data', onInput);
      socket.unpipe(io.stdout);
      socket.destroy();
      resolve(how);
    };
    io.stdin.on('data', onInput);
    socket.on('close', () => finish('closed'));
    socket.on('error', () => {});
  });
}
