// The switch's unix datagram socket for daemon ports (core/net/daemon-protocol.ts): bound to a 108-byte
// abstract name, because a kernel sends to the switch with the full sockaddr length and abstract names
// match by length. Abstract names live in the network namespace, not the filesystem: a machine's sandbox
// keeps the host's one when it has NICs, so the kernel inside reaches this socket with no bind mount, and
// a restarted switch takes the same name again (it is freed when the old socket closes, even on kill -9).
import { type DatagramAddon, datagramAddon } from '../dgram-addon.ts';

export type FrameHandler = (frame: Buffer, from: Buffer) => void;

export class DaemonDataSocket {
  readonly fd: number;
  readonly #addon: DatagramAddon;
  #watching = false;
  #closed = false;
  /** Frames the kernel did not take (the guest's queue was full, or the guest is gone). */
  sendDrops = 0;

  private constructor(addon: DatagramAddon, fd: number) {
    this.#addon = addon;
    this.fd = fd;
  }

  /** @throws {Error} code EADDRINUSE when another switch holds the name. */
  static open(name: Uint8Array): DaemonDataSocket {
    const addon = datagramAddon();
    const fd = addon.socket();
    try {
      addon.bind(fd, Buffer.from(name));
    } catch (e) {
      addon.close(fd);
      throw e;
    }
    return new DaemonDataSocket(addon, fd);
  }

  /** One frame to a guest's data socket (its 108-byte name); false when it was dropped. */
  send(frame: Uint8Array, to: Buffer): boolean {
    if (this.#closed) return false;
    const ok = this.#addon.sendto(this.fd, frame, to) >= 0;
    if (!ok) this.sendDrops++;
    return ok;
  }

  /** Reads the socket itself (only when no fast-path thread owns it). */
  onFrame(handler: FrameHandler): void {
    this.stopReading();
    this.#watching = true;
    this.#addon.watch(this.fd, () => {
      for (let i = 0; i < 64 && !this.#closed; i++) {
        const d = this.#addon.recvfrom(this.fd);
        if (!d) return;
        handler(d.data, d.addr);
      }
    });
  }

  stopReading(): void {
    if (this.#watching) this.#addon.unwatch(this.fd);
    this.#watching = false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopReading();
    this.#addon.close(this.fd);
  }
}
