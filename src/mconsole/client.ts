// MconsoleClient: talks to one UML's mconsole socket, one request at a time, with a method per command.
//
// The protocol has no request id, so a reply is only known to be ours by timing. Hence: one request in
// flight per client; datagrams already queued before a send are stale and dropped; and after a timeout
// the socket is thrown away, so a late reply lands on a dead address instead of answering the next
// request. The client socket is bound to a unique abstract name (UML replies to the sender's address)
// and connected to the server, which also lets the kernel skip its 10-datagram queue limit for UML's
// replies (af_unix only applies it to senders that are not the receiver's peer), so a long `sysrq`
// stream is not cut short.

import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import { decodeReply, encodeRequest } from '../core/mconsole/codec.ts';
import * as cmd from '../core/mconsole/commands.ts';
import { type MconsoleReply, ReplyAssembler } from '../core/mconsole/reply.ts';
import { abstractAddress, pathAddress, UnixDatagramSocket } from '../host/unix-dgram.ts';

export type { MconsoleReply } from '../core/mconsole/reply.ts';

export interface MconsoleClientOptions {
  /** Longest wait for each reply packet. Default 5000 ms. */
  readonly timeoutMs?: number;
}

export interface RequestOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 5000;
// While UML is SIGSTOPped its queue fills; retry at this pace until the timeout.
const SEND_RETRY_MS = 20;

let clientSeq = 0;

export class MconsoleClient {
  readonly socketPath: string;
  readonly #address: Buffer;
  readonly #timeoutMs: number;
  #socket: UnixDatagramSocket | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #replyPath: string | undefined;

  /** @throws {UmlError} SOCKET_PATH_TOO_LONG when the path cannot be a socket address. */
  constructor(socketPath: string, options: MconsoleClientOptions = {}) {
    this.socketPath = socketPath;
    this.#address = pathAddress(socketPath);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Send one command and collect its whole reply. An error reported by UML (err ≠ 0) is a normal
   * result, returned in `err`; only transport failures throw.
   * @throws {UmlError} MCONSOLE_UNREACHABLE (no socket, nobody listening, or no reply in time),
   *   MCONSOLE_PROTOCOL (an undecodable reply), USAGE (a command of 512 bytes or more).
   */
  request(command: string | Uint8Array, options: RequestOptions = {}): Promise<MconsoleReply> {
    let request: Uint8Array;
    try {
      request = encodeRequest(command); // validated before queueing; a bad command rejects, never throws
    } catch (e) {
      return Promise.reject(e);
    }
    const run = this.#queue.then(() => this.#exchange(request, command, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Like request(), but an err ≠ 0 reply throws; resolves to the reply text.
   * @throws {UmlError} MCONSOLE_FAILED with the kernel's text, plus request()'s errors.
   */
  async run(command: string, options: RequestOptions = {}): Promise<string> {
    const reply = await this.request(command, options);
    if (reply.err !== 0) {
      throw new UmlError(
        'MCONSOLE_FAILED',
        `mconsole ${quote(command)} failed: ${reply.text} (err ${reply.err})`,
        {
          hint: hintFor(command, reply.err),
        },
      );
    }
    return reply.text;
  }

  version = (o?: RequestOptions): Promise<string> => this.run(cmd.version(), o);
  help = (o?: RequestOptions): Promise<string> => this.run(cmd.help(), o);
  /** Halts at once, WITHOUT syncing the guest's disks (run `sysrq s` and `sysrq u` first to be safe). */
  halt = (o?: RequestOptions): Promise<string> => this.run(cmd.halt(), o);
  reboot = (o?: RequestOptions): Promise<string> => this.run(cmd.reboot(), o);
  cad = (o?: RequestOptions): Promise<string> => this.run(cmd.cad(), o);
  sysrq = (key: string, o?: RequestOptions): Promise<string> => this.run(cmd.sysrq(key), o);
  /** Query a device's configuration ("" when unplugged). */
  config = (dev: string, o?: RequestOptions): Promise<string> => this.run(cmd.config(dev), o);
  /** Hot-plug with the driver's command-line syntax, e.g. configSet('ubd1', '/abs/disk.img'). */
  configSet = (dev: string, spec: string, o?: RequestOptions): Promise<string> =>
    this.run(cmd.configSet(dev, spec), o);
  configDisk = (disk: cmd.DiskPlug, o?: RequestOptions): Promise<string> => this.run(cmd.configDisk(disk), o);
  configNic = (index: number, spec: string, o?: RequestOptions): Promise<string> =>
    this.run(cmd.configNic(index, spec), o);
  remove = (dev: string, o?: RequestOptions): Promise<string> => this.run(cmd.remove(dev), o);
  stop = (o?: RequestOptions): Promise<string> => this.run(cmd.stop(), o);
  go = (o?: RequestOptions): Promise<string> => this.run(cmd.go(), o);
  log = (text: string, o?: RequestOptions): Promise<string> => this.run(cmd.log(text), o);
  /** A guest /proc file. The kernel sends a leading "\n" packet first; it is removed here. */
  proc = async (path: string, o?: RequestOptions): Promise<string> =>
    (await this.run(cmd.proc(path), o)).replace(/^\n/, '');
  stack = (pid: number, o?: RequestOptions): Promise<string> => this.run(cmd.stack(pid), o);

  /** Release the socket. Requests already queued fail with MCONSOLE_UNREACHABLE. */
  close(): void {
    this.#closed = true;
    this.#dropSocket();
  }

  async #exchange(
    request: Uint8Array,
    command: string | Uint8Array,
    options: RequestOptions,
  ): Promise<MconsoleReply> {
    const label = typeof command === 'string' ? command : Buffer.from(command).toString();
    if (this.#closed) throw this.#unreachable(label, 'the client is closed');
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const socket = await this.#send(request, label, timeoutMs, options.signal);
    const assembler = new ReplyAssembler();
    for (;;) {
      const d = await socket.receive(options.signal ? { timeoutMs, signal: options.signal } : { timeoutMs });
      if (!d) {
        this.#dropSocket();
        const partial = assembler.partial.map((p) => Buffer.from(p.data).toString()).join('');
        throw new UmlError(
          'MCONSOLE_UNREACHABLE',
          `no reply from ${quote(this.socketPath)} to ${quote(label)} within ${timeoutMs} ms`,
          {
            ...(partial === '' ? {} : { details: `partial reply:\n${partial}` }),
            hint: 'the machine may be frozen (SIGSTOP), crashed, or busy; check that its process is alive',
          },
        );
      }
      const reply = assembler.push(decodeReply(d.data));
      if (reply) return reply;
    }
  }

  #open(label: string): UnixDatagramSocket {
    if (this.#socket && !this.#socket.closed) return this.#socket;
    const socket = new UnixDatagramSocket();
    try {
      // A file beside UML's socket first: a sandboxed UML (own network namespace) cannot reach an
      // abstract name, but sees this directory at the same path. Then abstract, then any name.
      const replyPath = join(dirname(this.socketPath), `.r${process.pid}-${++clientSeq}`);
      try {
        socket.bind(pathAddress(replyPath));
        this.#replyPath = replyPath;
      } catch {
        try {
          socket.bind(abstractAddress(`umlkit-mconsole/${process.pid}/${clientSeq}`));
        } catch {
          socket.bind(Buffer.alloc(0)); // name taken (another pid namespace?): let the kernel pick one
        }
      }
      socket.connect(this.#address);
    } catch (e) {
      socket.close();
      throw this.#unreachable(
        label,
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'the socket does not exist'
          : 'nobody is listening on it',
        e,
      );
    }
    this.#socket = socket;
    return socket;
  }

  /** Send on the current socket (or a fresh one if UML's went away); resolves to the socket used. */
  async #send(
    request: Uint8Array,
    label: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<UnixDatagramSocket> {
    const deadline = Date.now() + timeoutMs;
    let socket = this.#open(label);
    for (let stale = socket.tryReceive(); stale; stale = socket.tryReceive()) {
      // A reply to an earlier request that arrived late; nothing waits for it any more.
    }
    for (let reconnected = false; ; ) {
      const result = socket.send(request);
      if (result === 'sent') return socket;
      if (result !== 'EAGAIN') {
        // The UML we were connected to is gone; after a reboot a fresh socket sits at the same path.
        this.#dropSocket();
        if (reconnected) throw this.#unreachable(label, 'nobody is listening on it');
        socket = this.#open(label);
        reconnected = true;
        continue;
      }
      if (Date.now() >= deadline) {
        this.#dropSocket();
        throw this.#unreachable(label, `its queue stayed full for ${timeoutMs} ms (is the machine frozen?)`);
      }
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, SEND_RETRY_MS));
    }
  }

  #dropSocket(): void {
    this.#socket?.close();
    this.#socket = undefined;
    if (this.#replyPath) rmSync(this.#replyPath, { force: true });
    this.#replyPath = undefined;
  }

  #unreachable(label: string, why: string, cause?: unknown): UmlError {
    return new UmlError(
      'MCONSOLE_UNREACHABLE',
      `cannot send ${quote(label)} to ${quote(this.socketPath)}: ${why}`,
      {
        ...(cause === undefined ? {} : { cause }),
        hint: 'is the machine running? The socket is <uml_dir>/<umid>/mconsole and exists only while UML runs',
      },
    );
  }
}

function hintFor(command: string, err: number): string {
  if (err === -19) return 'the device does not exist; query it with `config <dev>` first';
  if (err === -16) return 'the guest has the device open; unmount it in the guest first';
  if (command.startsWith('go')) return 'the machine was not stopped';
  return "the text is the kernel's own message";
}
