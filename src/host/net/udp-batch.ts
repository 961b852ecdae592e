// A UDP socket on 127.0.0.1 that moves datagrams in batches (recvmmsg/sendmmsg through our addon): the
// switch's hot path. node:dgram makes one system call and one JavaScript callback per datagram, which
// at TCP rates costs the switch more CPU than the guests can spare on a small host.
import { type DatagramAddon, datagramAddon } from '../dgram-addon.ts';

/** Room for one L2TPv3 packet: the 8-byte header and the largest frame a port carries, rounded up. */
export const UDP_SLOT_BYTES = 2048;
const BATCH = 64;
/** Batches read per readable event before other events (timers, control clients) get their turn. */
const BATCHES_PER_TURN = 16;

export type DatagramHandler = (packet: Buffer, fromPort: number) => void;

/**
 * Where received datagrams come from: the socket itself, or the switch's fast-path thread, which owns
 * the socket and hands over the frames it does not forward (unicast-fast-path.ts). `read` fills slots of
 * `buf` as recvBatch does; `watchFd` is readable while there is something to read.
 */
export interface DatagramSource {
  readonly watchFd: number;
  read(buf: Buffer, slotBytes: number, meta: Int32Array): number;
  /** Everything read so far has been handled and its sends flushed. */
  settle?(): void;
}

export class LoopbackUdpBatch {
  readonly fd: number;
  readonly #addon: DatagramAddon;
  readonly #rx = Buffer.allocUnsafe(BATCH * UDP_SLOT_BYTES);
  readonly #meta = new Int32Array(BATCH * 2);
  readonly #tx: Uint8Array[] = [];
  readonly #txPorts = new Int32Array(BATCH * 4);
  #closed = false;
  #watchFd: number | undefined;
  /** Datagrams the kernel did not take (a full buffer, a peer that is gone). */
  sendDrops = 0;

  private constructor(addon: DatagramAddon, fd: number) {
    this.#addon = addon;
    this.fd = fd;
  }

  /** Binds 127.0.0.1 only: the socket must not be reachable from other hosts. */
  static open(port: number, bufferBytes = 4 << 20): LoopbackUdpBatch {
    const addon = datagramAddon();
    return new LoopbackUdpBatch(addon, addon.udpSocket(port, bufferBytes));
  }

  get port(): number {
    return this.#addon.udpPort(this.fd);
  }

  /**
   * Calls `handler` for every datagram that arrives. The packet is a view into a receive buffer that the
   * next batch overwrites: `queue` it (sent before that happens) or copy it to keep it longer.
   */
  onDatagram(handler: DatagramHandler, source: DatagramSource = this.#ownSource()): void {
    this.stopReading();
    this.#watchFd = source.watchFd;
    this.#addon.watch(source.watchFd, () => {
      for (let turn = 0; turn < BATCHES_PER_TURN && !this.#closed; turn++) {
        const n = source.read(this.#rx, UDP_SLOT_BYTES, this.#meta);
        for (let i = 0; i < n; i++) {
          const length = this.#meta[2 * i] as number;
          if (length < 0) continue; // larger than any frame a port may send: dropped
          const at = i * UDP_SLOT_BYTES;
          handler(this.#rx.subarray(at, at + length), this.#meta[2 * i + 1] as number);
        }
        this.flush();
        source.settle?.();
        if (n < BATCH) break;
      }
    });
  }

  #ownSource(): DatagramSource {
    return { watchFd: this.fd, read: (buf, slot, meta) => this.#addon.recvBatch(this.fd, buf, slot, meta) };
  }

  /** No more handler calls (before a fast-path thread that feeds them stops and closes its fd). */
  stopReading(): void {
    if (this.#watchFd !== undefined) this.#addon.unwatch(this.#watchFd);
    this.#watchFd = undefined;
  }

  /** Send with the current batch (at the latest when the batch's handlers are done). */
  queue(packet: Uint8Array, port: number): void {
    if (this.#tx.length === this.#txPorts.length) this.flush();
    this.#txPorts[this.#tx.length] = port;
    this.#tx.push(packet);
  }

  /** Send now: for datagrams sent outside a receive batch (delayed by an impairment). */
  send(packet: Uint8Array, port: number): void {
    this.queue(packet, port);
    this.flush();
  }

  flush(): void {
    const count = this.#tx.length;
    if (count === 0 || this.#closed) {
      this.#tx.length = 0;
      return;
    }
    this.sendDrops += count - this.#addon.sendBatch(this.fd, this.#tx, this.#txPorts, count);
    this.#tx.length = 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tx.length = 0;
    this.stopReading();
    this.#addon.close(this.fd);
  }
}
