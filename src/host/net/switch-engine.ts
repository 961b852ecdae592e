// The learning Ethernet switch: one UDP socket on 127.0.0.1 speaking L2TPv3 to every port's kernel,
// demultiplexed by session id (and checked against the port's own UDP source), and optionally one unix
// datagram socket for daemon ports (6.1 kernels' `daemon` transport, a raw frame per datagram, the port
// known by its guest's address), with per-port
// impairments and capture taps. Frames arrive and leave in batches (udp-batch.ts); a received packet is
// a view into the batch's buffer, so anything kept past the batch (an impairment's delay) is copied.
// Known unicast between unimpaired ports, while no capture runs, is forwarded by a native thread
// (unicast-fast-path.ts) that this engine programs: every table change here is copied there, and what
// the thread forwarded comes back as counters and MACs seen (for aging). Inside the engine every frame
// is an L2TPv3 packet: a daemon port's frames get its session's header on arrival (from the thread, or
// here when there is no thread) and lose it on the way out.
import { ETH_HEADER, MAX_FRAME } from '../../core/net/ethernet.ts';
import {
  type Impairment,
  isImpaired,
  type LinkQueue,
  NO_IMPAIRMENT,
  newLinkQueue,
  schedule,
} from '../../core/net/impairment.ts';
import { encodeL2tp, L2TP_HEADER } from '../../core/net/l2tpv3.ts';
import { bytesToMac } from '../../core/net/mac.ts';
import { MacTable } from '../../core/net/mac-table.ts';
import { pcapRecord } from '../../core/net/pcap.ts';
import { UnixDatagramSocket } from '../unix-dgram.ts';
import { DeliveryTimer } from './delivery-timer.ts';
import { LoopbackUdpBatch } from './udp-batch.ts';
import { UnicastFastPath } from './unicast-fast-path.ts';

/** How often the fast path's counters and refreshed MACs are collected (and old MACs aged out). */
const FAST_PATH_SYNC_MS = 5000;

export interface EnginePort {
  readonly id: number;
  readonly session: number;
  /** The kernel's UDP port; 0 for a daemon port. */
  readonly guestPort: number;
  /** A daemon port: the 108-byte name of its guest's data socket, once the kernel registered it. */
  readonly daemonAddress?: Buffer | undefined;
  /** Changed through SwitchEngine.setImpairment (the fast path must follow). */
  readonly impairment: Impairment;
  readonly inQueue: LinkQueue;
  readonly outQueue: LinkQueue;
  rxFrames: number;
  txFrames: number;
  dropped: number;
}

export interface CaptureTap {
  /** Only frames from or to this port; all frames if undefined. */
  readonly portId?: number;
  write(record: Uint8Array): void;
}

export interface EngineStats {
  frames: number;
  /** Of those, forwarded by the native fast path. */
  fastFrames: number;
  bytes: number;
  flooded: number;
  dropped: number;
}

export interface EngineOptions {
  /** false: every frame through TypeScript (UMLKIT_SWITCH_FAST_PATH=off does the same for the daemon). */
  readonly fastPath?: boolean;
  /** Forwarding-table aging (default 300 s). */
  readonly agingMs?: number;
  /**
   * Open the unix datagram socket for daemon ports under this 108-byte abstract name: a kernel sends to
   * the switch with the full sockaddr length, and abstract names match by length. Abstract names live in
   * the network namespace, not the filesystem: a machine's sandbox keeps the host's one when it has NICs,
   * so the kernel inside reaches this socket with no bind mount, and a restarted switch takes the same
   * name again (it is freed when the old socket closes, even on kill -9).
   */
  readonly daemonName?: Uint8Array;
}

export class SwitchEngine {
  readonly ports = new Map<number, EnginePort>();
  readonly #bySession = new Map<number, EnginePort>();
  /** Daemon ports by their guest's address (latin1 of its bytes). */
  readonly #byAddress = new Map<string, EnginePort>();
  readonly daemon: UnixDatagramSocket | undefined;
  /** Keyed by the MAC as a 48-bit number: no string per frame on the hot path. */
  readonly table: MacTable<number, number>;
  readonly #taps = new Set<CaptureTap>();
  readonly stats: EngineStats = { frames: 0, fastFrames: 0, bytes: 0, flooded: 0, dropped: 0 };
  readonly udpPort: number;
  readonly #fast: UnicastFastPath | undefined;
  readonly #syncTimer: NodeJS.Timeout | undefined;
  readonly #delayed = new DeliveryTimer();

  private constructor(
    readonly socket: LoopbackUdpBatch,
    options: EngineOptions,
  ) {
    this.udpPort = socket.port;
    this.daemon = options.daemonName ? new UnixDatagramSocket() : undefined;
    try {
      if (options.daemonName) this.daemon?.bind(options.daemonName);
    } catch (e) {
      this.daemon?.close();
      socket.close();
      throw e;
    }
    this.#fast =
      options.fastPath === false ? undefined : UnicastFastPath.start(socket.fd, this.daemon?.fd ?? -1);
    const fast = this.#fast;
    this.table = new MacTable<number, number>({
      now: () => Date.now(),
      ...(options.agingMs !== undefined ? { agingMs: options.agingMs } : {}),
      ...(fast ? { onForget: (mac: number) => fast.deleteMac(mac) } : {}),
    });
    // From the thread, sender port 0 marks a frame it took from a registered daemon port; from the
    // socket itself no UDP sender has port 0, and none may pass for a daemon port.
    socket.onDatagram(
      fast
        ? (packet, fromPort) => this.#receive(packet, fromPort)
        : (packet, fromPort) => fromPort !== 0 && this.#receive(packet, fromPort),
      fast?.source,
    );
    // Without the thread the engine reads the daemon socket itself (with it, nothing here reads it).
    if (!fast) this.daemon?.onDatagram((d) => this.#receiveDaemon(d.data, d.from), { keepAlive: false });
    if (fast) {
      this.#syncTimer = setInterval(() => this.sync(), FAST_PATH_SYNC_MS);
      this.#syncTimer.unref();
    }
  }

  /** Whether frames may bypass this engine (known unicast is forwarded natively). */
  get fastPath(): boolean {
    return this.#fast !== undefined;
  }

  get taps(): ReadonlySet<CaptureTap> {
    return this.#taps;
  }

  /** A capture sees every frame, so while one runs nothing takes the fast path. */
  addTap(tap: CaptureTap): void {
    this.#taps.add(tap);
    this.#fast?.setAllSlow(true);
  }

  removeTap(tap: CaptureTap): void {
    this.#taps.delete(tap);
    if (this.#taps.size === 0) this.#fast?.setAllSlow(false);
  }

  setImpairment(id: number, impairment: Impairment): void {
    const port = this.ports.get(id);
    if (!port) return;
    (port as { impairment: Impairment }).impairment = impairment;
    this.#fast?.setPort(port.session, port.guestPort, !isImpaired(impairment));
  }

  /**
   * Folds in what the fast path moved since the last call (counters, MACs it forwarded from, which
   * keeps them from aging out) and ages the table. Call before reading counters or the table.
   */
  sync(): void {
    const fast = this.#fast;
    if (!fast) return;
    fast.takeCounters((c) => {
      const port = this.#bySession.get(c.session);
      if (!port) return;
      port.rxFrames += c.rxFrames;
      this.stats.frames += c.rxFrames;
      this.stats.fastFrames += c.rxFrames;
      this.stats.bytes += c.rxBytes;
      // The destination's session is not in the record: its counter came back under its own session.
      port.txFrames += c.txFrames;
    });
    fast.takeSeen((mac, session) => {
      const port = this.#bySession.get(session);
      // New to the table again (it was evicted meanwhile): the thread gets it back, so both stay alike.
      if (port && this.table.learn(mac, port.id)) fast.setMac(mac, session);
    });
    this.table.sweep();
  }

  /**
   * Binds 127.0.0.1 only: the port must not be reachable from other hosts.
   * @throws {Error} code EADDRINUSE when `daemonName` is held by another socket.
   */
  static async open(udpPort: number, options: EngineOptions = {}): Promise<SwitchEngine> {
    // A kernel that is gone makes sends fail with ECONNREFUSED on loopback: the batch drops that frame.
    return new SwitchEngine(LoopbackUdpBatch.open(udpPort), options);
  }

  /** `daemon`: a daemon port (guestPort 0), its guest's address known or still to come (setDaemonAddress). */
  addPort(p: {
    id: number;
    session: number;
    guestPort: number;
    impairment?: Impairment;
    daemon?: { address?: Buffer | undefined };
  }): EnginePort {
    if (p.daemon && !this.daemon) throw new Error('daemon port on a switch without a daemon socket');
    const port: EnginePort = {
      id: p.id,
      session: p.session,
      guestPort: p.daemon ? 0 : p.guestPort,
      impairment: p.impairment ?? NO_IMPAIRMENT,
      inQueue: newLinkQueue(),
      outQueue: newLinkQueue(),
      rxFrames: 0,
      txFrames: 0,
      dropped: 0,
    };
    this.ports.set(p.id, port);
    this.#bySession.set(p.session, port);
    this.#fast?.setPort(port.session, port.guestPort, !isImpaired(port.impairment));
    if (p.daemon) this.setDaemonAddress(p.id, p.daemon.address);
    return port;
  }

  /** A daemon port's kernel registered its data socket (undefined: forget it). */
  setDaemonAddress(id: number, address: Buffer | undefined): void {
    const port = this.ports.get(id);
    if (!port || port.guestPort !== 0) return;
    if (port.daemonAddress) this.#byAddress.delete(port.daemonAddress.toString('latin1'));
    (port as { daemonAddress?: Buffer | undefined }).daemonAddress = address;
    if (address) this.#byAddress.set(address.toString('latin1'), port);
    this.#fast?.setPortAddress(port.session, address ?? null);
  }

  removePort(id: number): void {
    const port = this.ports.get(id);
    if (!port) return;
    this.sync(); // its last counters
    this.ports.delete(id);
    this.#bySession.delete(port.session);
    if (port.daemonAddress) this.#byAddress.delete(port.daemonAddress.toString('latin1'));
    this.table.forgetPort(id);
    this.#fast?.removePort(port.session);
  }

  close(): void {
    if (this.#syncTimer) clearInterval(this.#syncTimer);
    this.#delayed.close();
    // The thread reads the socket: stop it before the fd can be closed (and its number reused).
    this.socket.stopReading();
    this.#fast?.stop();
    this.socket.close();
    this.daemon?.close();
  }

  /** A raw frame on the daemon socket (no fast path): given its port's header, then as any other. */
  #receiveDaemon(frame: Buffer, from: Buffer): void {
    const src = this.#byAddress.get(from.toString('latin1'));
    if (!src) return; // not a registered guest: nobody may speak for a port
    const packet = encodeL2tp(src.session, frame);
    this.#receive(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength), 0);
    this.socket.flush();
  }

  #receive(packet: Buffer, fromPort: number): void {
    // Header check inline (not decodeL2tp): this is the per-frame hot path.
    if (packet.length <= L2TP_HEADER || packet.readUInt32BE(0) !== 0x00030000) return;
    const src = this.#bySession.get(packet.readUInt32BE(4));
    // Session and source UDP port must both match: another local process cannot speak for a port.
    if (!src || src.guestPort !== fromPort) return;
    const frameLength = packet.length - L2TP_HEADER;
    if (frameLength < ETH_HEADER || frameLength > MAX_FRAME) {
      src.dropped++;
      return;
    }
    src.rxFrames++;
    this.stats.frames++;
    this.stats.bytes += frameLength;
    if (isImpaired(src.impairment)) {
      const kept = Buffer.from(packet); // forwarded after the batch's buffer is reused
      this.#impaired(src.impairment, src.inQueue, frameLength, () => this.#forward(src, kept, true));
      return;
    }
    this.#forward(src, packet);
  }

  /** `late`: outside a receive batch (an inbound delay), so deliveries go out at once. */
  #forward(src: EnginePort, packet: Buffer, late = false): void {
    // Destination at bytes 8..13 of the packet, source at 14..19; the group bit is the first octet's bit 0.
    const flood = ((packet[L2TP_HEADER] as number) & 1) === 1;
    // A source with the group bit set is forged or broken: never learn it.
    if (((packet[L2TP_HEADER + 6] as number) & 1) === 0) {
      const mac = packet.readUIntBE(L2TP_HEADER + 6, 6);
      if (this.table.learn(mac, src.id)) this.#fast?.setMac(mac, src.session);
    }
    const dstId = flood ? undefined : this.table.lookup(packet.readUIntBE(L2TP_HEADER, 6));
    if (this.#taps.size > 0) this.#capture(packet.subarray(L2TP_HEADER), src.id, dstId);
    if (dstId !== undefined) {
      if (dstId === src.id) return; // the destination is on the port it came from
      const dst = this.ports.get(dstId);
      if (dst) this.#deliver(dst, packet, false, late);
      return;
    }
    this.stats.flooded++;
    let first = true;
    for (const dst of this.ports.values()) {
      if (dst === src) continue;
      // The first delivery may reuse the received buffer; the others need their own header.
      this.#deliver(dst, packet, !first, late);
      first = false;
    }
  }

  /** The forwarding table for people: MACs as text (sync() first for what the fast path refreshed). */
  macEntries(): { mac: string; port: number; ageMs: number }[] {
    const b = Buffer.alloc(6);
    return this.table.entries().map((e) => {
      b.writeUIntBE(e.mac, 0, 6);
      return { mac: bytesToMac(b), port: e.port, ageMs: e.ageMs };
    });
  }

  #deliver(dst: EnginePort, packet: Buffer, copy: boolean, late: boolean): void {
    const impaired = isImpaired(dst.impairment);
    // An impaired delivery may leave after this batch: it needs its own bytes, like every flood copy.
    const out = copy || impaired ? Buffer.from(packet) : packet;
    out.writeUInt32BE(dst.session, 4);
    if (impaired) {
      this.#impaired(dst.impairment, dst.outQueue, out.length - L2TP_HEADER, () =>
        this.#transmit(dst, out, true),
      );
      return;
    }
    this.#transmit(dst, out, late);
  }

  #transmit(dst: EnginePort, out: Buffer, late: boolean): void {
    if (dst.guestPort === 0) {
      // A daemon port: the raw frame, to the guest's data socket (none yet: nowhere to go).
      if (dst.daemonAddress && this.daemon?.send(out.subarray(L2TP_HEADER), dst.daemonAddress) === 'sent')
        dst.txFrames++;
      else dst.dropped++;
      return;
    }
    dst.txFrames++;
    if (late) this.socket.send(out, dst.guestPort);
    else this.socket.queue(out, dst.guestPort);
  }

  #impaired(i: Impairment, q: LinkQueue, bytes: number, go: () => void): void {
    const now = performance.now();
    const times = schedule(i, q, bytes, now, Math.random);
    if (times.length === 0) this.stats.dropped++;
    for (const t of times) {
      if (t <= now) go();
      else this.#delayed.at(t, go);
    }
  }

  #capture(frame: Buffer, srcId: number, dstId: number | undefined): void {
    const record = pcapRecord(performance.timeOrigin + performance.now(), frame);
    for (const tap of this.#taps) {
      if (tap.portId === undefined || tap.portId === srcId || dstId === undefined || dstId === tap.portId)
        tap.write(record);
    }
  }
}
