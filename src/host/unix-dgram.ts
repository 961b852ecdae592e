// AF_UNIX datagram sockets for Node, over our N-API addon (native/udg/udg.c, loaded by dgram-addon.ts).
//
// Node core has no unix datagram sockets, and the npm ones lose abstract or binary addresses or leak
// fds into children (docs: library-choices §1). Addresses here are Buffers of raw sun_path bytes: a
// leading 0 byte means abstract, and those bytes are compared and sent back byte for byte.
import { quote, UmlError } from '../core/errors.ts';
import { datagramAddon as native } from './dgram-addon.ts';

/** Longest sun_path, in bytes. */
export const MAX_ADDRESS_BYTES = 108;

/**
 * The address of a filesystem socket. The limit is 107 bytes so that the kernel (and UML, which
 * strcpy()s paths into sun_path) always has room for the terminating NUL.
 * @throws {UmlError} SOCKET_PATH_TOO_LONG
 */
export function pathAddress(path: string): Buffer {
  const bytes = Buffer.from(path);
  if (bytes.length >= MAX_ADDRESS_BYTES) {
    throw new UmlError(
      'SOCKET_PATH_TOO_LONG',
      `socket path ${quote(path)} is ${bytes.length} bytes; the limit is ${MAX_ADDRESS_BYTES - 1}`,
      {
        hint: 'use a shorter directory, e.g. set UMLKIT_RUNTIME_DIR=/tmp/u',
      },
    );
  }
  if (bytes.length === 0 || bytes.includes(0))
    throw new UmlError('USAGE', `socket path ${quote(path)} is empty or contains a NUL`);
  return bytes;
}

/** An abstract address: a 0 byte, then the name's bytes (any bytes, NULs included). */
export function abstractAddress(name: string | Uint8Array): Buffer {
  const bytes = Buffer.concat([Buffer.of(0), typeof name === 'string' ? Buffer.from(name) : name]);
  if (bytes.length > MAX_ADDRESS_BYTES)
    throw new RangeError(`abstract address is ${bytes.length} bytes; the limit is ${MAX_ADDRESS_BYTES}`);
  return bytes;
}

/** The filesystem path of an address, with the kernel's trailing NUL stripped; undefined for abstract or unnamed. */
export function addressPath(addr: Uint8Array): string | undefined {
  if (addr.length === 0 || addr[0] === 0) return undefined;
  const nul = addr.indexOf(0);
  return Buffer.from(addr.subarray(0, nul < 0 ? addr.length : nul)).toString();
}

/** For messages: a path as is, `@name` for abstract (non-printable bytes as \xNN), `(unnamed)`. */
export function formatAddress(addr: Uint8Array): string {
  if (addr.length === 0) return '(unnamed)';
  const path = addressPath(addr);
  if (path !== undefined) return path;
  return `@${Array.from(addr.subarray(1), (b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('')}`;
}

export interface Datagram {
  readonly data: Buffer;
  /** The sender's raw address (empty when the sender never bound one). */
  readonly from: Buffer;
}

/**
 * Outcome of a send. The non-'sent' ones are normal events for datagram peers, not errors: the
 * receiver's queue is full (EAGAIN; net.unix.max_dgram_qlen is 10), it is gone (ECONNREFUSED), or its
 * path does not exist (ENOENT).
 */
export type SendResult = 'sent' | 'EAGAIN' | 'ECONNREFUSED' | 'ENOENT';

export interface ReceiveOptions {
  /** Resolve null after this long without a datagram. Default: wait forever. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Datagrams that arrive while nobody receives are kept, up to this many (then the oldest go). */
const QUEUE_LIMIT = 4096;

interface Waiter {
  resolve(d: Datagram | null): void;
  reject(e: unknown): void;
}

/** One non-blocking, CLOEXEC AF_UNIX SOCK_DGRAM socket. */
export class UnixDatagramSocket {
  readonly fd: number;
  #closed = false;
  #reading = false;
  readonly #queue: Datagram[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #listeners = new Set<(d: Datagram) => void>();
  #holds = 0;
  /** Datagrams dropped because the queue was full. */
  dropped = 0;

  constructor() {
    this.fd = native().socket();
  }

  /**
   * Bind to an address; an empty Buffer autobinds to a kernel-chosen abstract name.
   * @throws {Error} with `code` EADDRINUSE, EACCES, ENOENT…
   */
  bind(addr: Uint8Array): this {
    native().bind(this.fd, Buffer.from(addr));
    return this;
  }

  /** Fix the peer: send() without an address goes there, and only that peer's datagrams are accepted. */
  connect(addr: Uint8Array): this {
    native().connect(this.fd, Buffer.from(addr));
    return this;
  }

  /** Send one datagram, to `to` or to the connected peer. Never blocks. */
  send(data: Uint8Array, to?: Uint8Array): SendResult {
    const n = native().sendto(this.fd, data, to === undefined ? null : Buffer.from(to));
    if (n >= 0) return 'sent';
    const c = native().constants;
    if (n === -c.ECONNREFUSED) return 'ECONNREFUSED';
    if (n === -c.ENOENT) return 'ENOENT';
    return 'EAGAIN';
  }

  /** Our own address, as the kernel reports it. */
  localAddress(): Buffer {
    return native().getsockname(this.fd);
  }

  /** The next datagram already queued, without waiting. */
  tryReceive(): Datagram | null {
    this.#startReading();
    this.#drain();
    return this.#queue.shift() ?? null;
  }

  /** The next datagram; null when `timeoutMs` passes first. Datagrams are delivered in arrival order. */
  receive(options: ReceiveOptions = {}): Promise<Datagram | null> {
    if (this.#closed) return Promise.reject(new Error('socket is closed'));
    options.signal?.throwIfAborted();
    const ready = this.tryReceive();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        this.#updateRef();
      };
      const waiter: Waiter = {
        resolve: (d) => {
          done();
          resolve(d);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = (): void => waiter.reject(options.signal?.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) timer = setTimeout(() => waiter.resolve(null), options.timeoutMs);
      this.#waiters.push(waiter);
      this.#updateRef();
    });
  }

  /**
   * Call `listener` for every datagram (queued ones first), instead of queueing them for receive().
   * Returns the function that removes it. With keepAlive (the default) the socket keeps the process
   * alive while the listener is set.
   */
  onDatagram(listener: (d: Datagram) => void, options: { keepAlive?: boolean } = {}): () => void {
    const keepAlive = options.keepAlive ?? true;
    this.#listeners.add(listener);
    if (keepAlive) this.#holds++;
    this.#startReading();
    for (let d = this.#queue.shift(); d; d = this.#queue.shift()) listener(d);
    this.#updateRef();
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.#listeners.delete(listener);
      if (keepAlive) this.#holds--;
      this.#updateRef();
    };
  }

  /** Keep the process alive (as a pending receive does) until the returned function is called. */
  hold(): () => void {
    this.#holds++;
    this.#updateRef();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#updateRef();
    };
  }

  /** Close the fd; pending receive() calls resolve null. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    native().close(this.fd);
    for (const w of [...this.#waiters]) w.resolve(null);
    this.#listeners.clear();
  }

  get closed(): boolean {
    return this.#closed;
  }

  // Reading starts at first use and runs until close(), so replies that arrive in a burst are moved
  // into our queue at once instead of overflowing the kernel's 10-datagram queue. The poll handle only
  // keeps the process alive while someone waits (see #updateRef).
  #startReading(): void {
    if (this.#reading || this.#closed) return;
    this.#reading = true;
    native().watch(this.fd, () => this.#drain());
    this.#updateRef();
  }

  #drain(): void {
    if (this.#closed) return;
    for (let m = native().recvfrom(this.fd); m; m = this.#closed ? null : native().recvfrom(this.fd)) {
      const d: Datagram = { data: m.data, from: m.addr };
      const waiter = this.#waiters[0];
      if (this.#listeners.size > 0) for (const l of [...this.#listeners]) l(d);
      else if (waiter) waiter.resolve(d);
      else {
        if (this.#queue.length >= QUEUE_LIMIT) {
          this.#queue.shift();
          this.dropped++;
        }
        this.#queue.push(d);
      }
    }
  }

  #updateRef(): void {
    if (this.#reading && !this.#closed) native().ref(this.fd, this.#waiters.length > 0 || this.#holds > 0);
  }
}

/** flock(2) operations, for `flock()` below. */
export const LOCK = {
  get SH(): number {
    return native().constants.LOCK_SH;
  },
  get EX(): number {
    return native().constants.LOCK_EX;
  },
  get NB(): number {
    return native().constants.LOCK_NB;
  },
  get UN(): number {
    return native().constants.LOCK_UN;
  },
};

/**
 * flock(2) on any fd (e.g. from fs.openSync). Returns 0, or a negative errno: -EWOULDBLOCK (= -EAGAIN)
 * when LOCK.NB meets another holder. The lock goes away with the last fd of the open file.
 */
export const flock = (fd: number, op: number): number => native().flock(fd, op);

/**
 * pidfd_open(2): a CLOEXEC fd that becomes readable when the process exits, immune to pid reuse.
 * Returns the fd or a negative errno (-ESRCH: no such process). Pair with watchReadable and closeFd.
 */
export const pidfdOpen = (pid: number): number => native().pidfdOpen(pid);

/** Call `cb` on the main loop whenever `fd` is readable; returns the function that stops it. */
export function watchReadable(fd: number, cb: () => void): () => void {
  native().watch(fd, () => cb());
  return () => {
    native().unwatch(fd);
  };
}

/** Close an fd opened by this module (stops any watch first). */
export const closeFd = (fd: number): void => native().close(fd);

/** errno numbers the functions above return negated. */
export const errno = {
  get EAGAIN(): number {
    return native().constants.EAGAIN;
  },
  get ESRCH(): number {
    return native().constants.ESRCH;
  },
};
