// The host end of the agent line: waits for the agent's hello, runs command sessions over it and
// applies flow control in both directions (stdin by a credit window, output by pausing the line).
import { type Duplex, PassThrough, type Readable, type Writable } from 'node:stream';
import {
  type ExecRequest,
  encodeExec,
  encodeFrame,
  FrameDecoder,
  G,
  H,
  i32pair,
  payloadText,
  readI32,
  resizePayload,
  STDIN_WINDOW_BYTES,
  u32le,
} from '../core/agent-protocol.ts';
import { UmlError } from '../core/errors.ts';

export interface AgentHello {
  readonly version: number;
  readonly mode: string;
  readonly kernel: string;
}

/** A failure the agent reported for a session: which stage (mount-root, chdir, exec…) and the errno. */
export interface AgentFailure {
  readonly stage: string;
  readonly errno: number;
  readonly message: string;
  readonly detail: string;
}

export interface SessionExit {
  readonly code: number;
  readonly signal: number;
  readonly failures: readonly AgentFailure[];
}

export interface SessionStreams {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/**
 * Collects the stderr of a command umlkit runs for itself; `failure(code)` is undefined for exit code 0,
 * else what the command said (or its exit code, when it said nothing).
 */
export function stderrCapture(): { readonly stream: Writable; failure(code: number): string | undefined } {
  let text = '';
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { stream, failure: (code) => (code === 0 ? undefined : text.trim() || `exit code ${code}`) };
}

export function parseFailure(payload: Uint8Array): AgentFailure {
  const [stage = '', errno = '0', message = '', detail = ''] = payloadText(payload).split('\n');
  return { stage, errno: Number(errno), message, detail };
}

export class Session {
  readonly started: Promise<number>;
  readonly exit: Promise<SessionExit>;
  readonly failures: AgentFailure[] = [];
  private resolveStarted!: (pid: number) => void;
  private resolveExit!: (exit: SessionExit) => void;
  private inFlight = 0;
  private stdinSource: Readable | undefined;
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private stdinEnded = false;
  private eofSent = false;
  private done = false;

  constructor(
    readonly id: number,
    private readonly link: AgentLink,
    readonly streams: SessionStreams,
    /** The agent was told the command has no stdin: nothing, not even an EOF, goes to it. */
    readonly noStdin = false,
  ) {
    this.started = new Promise((r) => (this.resolveStarted = r));
    this.exit = new Promise((r) => (this.resolveExit = r));
    if (noStdin) this.stdinEnded = this.eofSent = true;
  }

  /** Forward a readable as the command's stdin, pausing it whenever the agent's window is full. */
  pipeStdin(source: Readable): void {
    if (this.noStdin) {
      source.resume(); // the command has no stdin: read and discard, so the source never stalls
      return;
    }
    this.stdinSource = source;
    source.on('data', (chunk: Buffer) => {
      if (this.done) return;
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      this.sendStdin();
      if (this.pendingBytes > 0) source.pause();
    });
    source.on('end', () => {
      this.stdinEnded = true;
      this.sendStdin();
    });
    source.on('error', () => {
      this.stdinEnded = true;
      this.sendStdin();
    });
  }

  // Sends queued stdin while the window allows; the EOF goes out once everything before it has.
  private sendStdin(): void {
    while (this.pending.length > 0 && this.inFlight < STDIN_WINDOW_BYTES) {
      const head = this.pending[0] as Buffer;
      const take = Math.min(head.length, STDIN_WINDOW_BYTES - this.inFlight);
      this.link.send(H.STDIN, this.id, head.subarray(0, take));
      this.inFlight += take;
      this.pendingBytes -= take;
      if (take === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(take);
    }
    if (this.pendingBytes === 0 && !this.done) {
      if (this.stdinEnded && !this.eofSent) {
        this.eofSent = true;
        this.link.send(H.STDIN_EOF, this.id);
      } else if (this.stdinSource?.isPaused()) {
        this.stdinSource.resume();
      }
    }
  }

  endStdin(): void {
    this.stdinEnded = true;
    this.sendStdin();
  }

  signal(signo: number): void {
    if (!this.done) this.link.send(H.SIGNAL, this.id, u32le(signo));
  }

  resize(rows: number, cols: number): void {
    if (!this.done) this.link.send(H.RESIZE, this.id, resizePayload(rows, cols));
  }

  /** @internal frame dispatch from the link */
  handle(type: number, payload: Uint8Array): void {
    switch (type) {
      case G.STARTED:
        this.resolveStarted(readI32(payload, 0));
        break;
      case G.STDOUT:
        this.link.write(this.streams.stdout, payload);
        break;
      case G.STDERR:
        this.link.write(this.streams.stderr, payload);
        break;
      case G.STDIN_ACK:
        this.inFlight -= readI32(payload, 0);
        this.sendStdin();
        break;
      case G.ERROR:
        this.failures.push(parseFailure(payload));
        break;
      case G.EXIT:
        this.finish({ code: readI32(payload, 0), signal: readI32(payload, 4), failures: this.failures });
        break;
    }
  }

  finish(exit: SessionExit): void {
    if (this.done) return;
    this.done = true;
    this.stdinSource?.pause();
    this.resolveStarted(-1);
    this.resolveExit(exit);
  }
}

export class AgentLink {
  readonly hello: Promise<AgentHello>;
  /** Resolves when the line closes (the kernel exited or the agent powered off). */
  readonly closed: Promise<void>;
  /** Failures the agent reported outside any session, e.g. it could not mount the root disk. */
  readonly bootFailures: AgentFailure[] = [];
  private readonly decoder = new FrameDecoder();
  private readonly sessions = new Map<number, Session>();
  private nextSession = 1;
  private resolveHello!: (h: AgentHello) => void;
  private rejectHello!: (e: Error) => void;
  private isClosed = false;
  private readonly waitingFor = new Set<Writable>();

  /** Called on every hello: once per boot of the guest (a reboot re-runs the agent on the same line). */
  onHello: ((hello: AgentHello) => void) | undefined;

  constructor(private readonly line: Duplex) {
    this.hello = new Promise((resolve, reject) => {
      this.resolveHello = resolve;
      this.rejectHello = reject;
    });
    this.hello.catch(() => {});
    this.closed = new Promise((resolve) => {
      const close = (): void => {
        if (this.isClosed) return;
        this.isClosed = true;
        this.rejectHello(new UmlError('KERNEL_EXITED', 'the agent line closed before the agent said hello'));
        for (const s of this.sessions.values())
          s.finish({ code: 255, signal: 0, failures: [...s.failures, LINE_CLOSED] });
        resolve();
      };
      line.on('close', close);
      line.on('end', close);
      line.on('error', close);
    });
    line.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  private receive(chunk: Buffer): void {
    let frames: ReturnType<FrameDecoder['push']>;
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.rejectHello(
        new UmlError('AGENT_PROTOCOL', `the agent line is out of sync: ${(e as Error).message}`),
      );
      this.line.destroy();
      return;
    }
    for (const f of frames) {
      if (f.type === G.HELLO) {
        try {
          const hello = JSON.parse(payloadText(f.payload)) as AgentHello;
          // A second hello means the guest rebooted: commands of the previous boot are gone with it.
          for (const s of this.sessions.values())
            s.finish({ code: 255, signal: 0, failures: [...s.failures, REBOOTED] });
          this.sessions.clear();
          this.resolveHello(hello);
          this.onHello?.(hello);
        } catch {
          this.rejectHello(new UmlError('AGENT_PROTOCOL', 'the agent sent a malformed hello'));
        }
      } else if (f.session === 0 && f.type === G.ERROR) {
        this.bootFailures.push(parseFailure(f.payload));
      } else {
        this.sessions.get(f.session)?.handle(f.type, f.payload);
        if (f.type === G.EXIT) this.sessions.delete(f.session);
      }
    }
  }

  send(type: number, session: number, payload?: Uint8Array): void {
    if (!this.isClosed) this.line.write(encodeFrame(type, session, payload));
  }

  /** Write guest output; while a destination is backed up, stop reading the line (the guest then waits). */
  write(stream: Writable, data: Uint8Array): void {
    if (stream.write(data) || this.waitingFor.has(stream)) return;
    // One drain listener per blocked stream, however many writes it refused meanwhile.
    this.waitingFor.add(stream);
    this.line.pause();
    stream.once('drain', () => {
      this.waitingFor.delete(stream);
      if (this.waitingFor.size === 0) this.line.resume();
    });
  }

  /** With `request.noStdin` the command reads EOF at once and the session takes no stdin. */
  exec(request: ExecRequest, streams: SessionStreams): Session {
    const session = new Session(this.nextSession++, this, streams, request.noStdin === true && !request.tty);
    this.sessions.set(session.id, session);
    this.send(H.EXEC, session.id, encodeExec(request));
    return session;
  }

  ping(): void {
    this.send(H.PING, 0);
  }

  powerOff(exitCode: number): void {
    this.send(H.POWEROFF, 0, i32pair(exitCode, 0).subarray(0, 4));
  }
}

const REBOOTED: AgentFailure = { stage: 'reboot', errno: 0, message: 'the guest rebooted', detail: '' };
const LINE_CLOSED: AgentFailure = { stage: 'line', errno: 0, message: 'the agent line closed', detail: '' };
