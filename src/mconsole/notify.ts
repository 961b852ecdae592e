// Listens on the socket given to UML as `mconsole=notify:<path>` and decodes what the kernel sends there.
//
// UML sendto()s each notification once and only logs a failure, so the socket MUST be bound before
// the kernel starts, and is read continuously: a notification that finds the queue full is lost.
import { lstatSync, unlinkSync } from 'node:fs';
import { isUmlError, quote, UmlError } from '../core/errors.ts';
import { decodeNotify, type Notification } from '../core/mconsole/codec.ts';
import { NOTIFY, type NotifyType } from '../core/mconsole/constants.ts';
import { pathAddress, UnixDatagramSocket } from '../host/unix-dgram.ts';

export type { Notification } from '../core/mconsole/codec.ts';
export { NOTIFY, type NotifyType } from '../core/mconsole/constants.ts';

export interface WaitOptions {
  /** Resolve null after this long. Default: wait forever. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export class MconsoleNotifyListener {
  readonly path: string;
  readonly #socket: UnixDatagramSocket;
  readonly #received: Notification[] = [];
  readonly #waiters = new Set<(closing?: boolean) => void>();
  #stopListening: () => void = () => {};
  /** Datagrams that were not notifications (kept out of the stream, counted for diagnosis). */
  invalid = 0;

  /**
   * Bind the notify socket at `path`. A stale socket left there by an earlier run is replaced; any
   * other kind of file is refused rather than deleted.
   * @throws {UmlError} SOCKET_PATH_TOO_LONG, STATE_CORRUPT (a non-socket in the way)
   */
  constructor(path: string) {
    const address = pathAddress(path);
    removeStaleSocket(path);
    this.path = path;
    this.#socket = new UnixDatagramSocket();
    try {
      this.#socket.bind(address);
    } catch (e) {
      this.#socket.close();
      throw new UmlError(
        'STATE_CORRUPT',
        `cannot bind the notify socket ${quote(path)}: ${(e as Error).message}`,
        {
          cause: e,
          hint: 'check that the directory exists and is writable',
        },
      );
    }
    this.#listen();
  }

  /** Every notification received so far, oldest first. */
  get received(): readonly Notification[] {
    return this.#received;
  }

  /**
   * The first notification (already received or still to come) that satisfies `match`: a type, or a
   * predicate. Resolves null on timeout.
   */
  waitFor(
    match: NotifyType | ((n: Notification) => boolean),
    options: WaitOptions = {},
  ): Promise<Notification | null> {
    const test = typeof match === 'number' ? (n: Notification) => n.type === match : match;
    const found = this.#received.find(test);
    if (found || this.#socket.closed) return Promise.resolve(found ?? null);
    options.signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const release = this.#socket.hold();
      const finish = (): void => {
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        release();
      };
      // Called after each arrival, and with closing = true by close().
      const waiter = (closing?: boolean): void => {
        const n = this.#received.find(test);
        if (n || closing) {
          finish();
          resolve(n ?? null);
        }
      };
      const onAbort = (): void => {
        finish();
        reject(options.signal?.reason);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              finish();
              resolve(null);
            }, options.timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The mconsole socket path the kernel announced (type SOCKET), which reveals a randomised umid. */
  async socketPath(options: WaitOptions = {}): Promise<string | null> {
    return (await this.waitFor(NOTIFY.SOCKET, options))?.text ?? null;
  }

  /** Stop listening and remove the socket file. */
  close(): void {
    this.#stopListening();
    this.#socket.close();
    for (const w of [...this.#waiters]) w(true);
    removeStaleSocket(this.path);
  }

  // Reading runs for the listener's whole life, but only a pending waitFor() keeps the process
  // alive, so a forgotten listener cannot hang a CLI run.
  #listen(): void {
    this.#stopListening = this.#socket.onDatagram(
      (d) => {
        try {
          this.#received.push(decodeNotify(d.data));
        } catch (e) {
          if (!isUmlError(e, 'MCONSOLE_PROTOCOL')) throw e;
          this.invalid++;
        }
        for (const w of [...this.#waiters]) w();
      },
      { keepAlive: false },
    );
  }
}

function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) {
    throw new UmlError('STATE_CORRUPT', `${quote(path)} exists and is not a socket`, {
      hint: 'remove it or choose another notify path',
    });
  }
  unlinkSync(path);
}
