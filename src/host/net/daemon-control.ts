// One daemon port's control socket (core/net/daemon-protocol.ts): a stream socket in the machine's own run
// dir, which its sandbox already shows the kernel, so hot-plugged NICs need no new bind. The kernel
// connects once, when it makes the device (at boot, or at a hot-plug `config`), sends its request and
// keeps the connection open; `ip link set down/up` keeps the same data socket. A connection closing
// changes nothing (the port lives as long as its machine); a new request replaces the address.
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { DAEMON_REQUEST_BYTES, parseDaemonRequest } from '../../core/net/daemon-protocol.ts';

export interface DaemonControlEvents {
  /** A kernel registered its data socket: `address` is its 108-byte name. */
  readonly onRegister: (address: Buffer) => void;
  /** A request was refused (not a 6.1 kernel's request_v3): for the switch's log. */
  readonly onRefused?: (why: string) => void;
}

export class DaemonControl {
  readonly #server: Server;
  readonly #clients = new Set<Socket>();

  private constructor(
    readonly path: string,
    reply: Uint8Array,
    events: DaemonControlEvents,
  ) {
    this.#server = createServer((socket) => {
      this.#clients.add(socket);
      let got = Buffer.alloc(0);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.#clients.delete(socket));
      socket.on('data', (d: Buffer) => {
        if (got.length >= DAEMON_REQUEST_BYTES) return; // after its request the kernel sends nothing
        got = Buffer.concat([got, d]);
        if (got.length < DAEMON_REQUEST_BYTES) return;
        const req = parseDaemonRequest(got);
        if (!req.ok) {
          events.onRefused?.(req.why);
          socket.destroy();
          return;
        }
        events.onRegister(Buffer.from(req.address));
        socket.write(reply);
      });
    });
  }

  /** Listens at `path` (a stale socket there is replaced); `reply` is the switch's 110-byte sockaddr_un. */
  static async listen(path: string, reply: Uint8Array, events: DaemonControlEvents): Promise<DaemonControl> {
    rmSync(path, { force: true });
    const control = new DaemonControl(path, reply, events);
    await new Promise<void>((resolve, reject) => {
      control.#server.once('error', reject);
      control.#server.listen(path, () => {
        control.#server.off('error', reject);
        resolve();
      });
    });
    return control;
  }

  close(): void {
    this.#server.close();
    for (const c of this.#clients) c.destroy();
    rmSync(this.path, { force: true });
  }
}
