// The switch's unicast fast path (native/switchpath/switchpath.c): a native thread owns the switch's
// UDP socket (and its unix datagram socket for daemon ports) and forwards frames whose way the switch engine already knows (both MACs learned, both
// ports unimpaired, no capture). Everything else reaches the engine through `source`, unchanged, so
// learning, flooding, aging, impairments and capture stay decided in TypeScript. The engine programs the
// thread's tables and collects what it forwarded (counters, MACs seen) when it needs them.
import { loadNativeAddon } from '../native-addon.ts';
import type { DatagramSource } from './udp-batch.ts';

type Handle = object & { readonly __fastPath: unique symbol };

interface SwitchPathAddon {
  start(fd: number, unixFd: number): Handle;
  stop(h: Handle): void;
  notifyFd(h: Handle): number;
  setPort(h: Handle, session: number, udpPort: number, fast: boolean): boolean;
  setPortAddress(h: Handle, session: number, address: Buffer | null): boolean;
  removePort(h: Handle, session: number): void;
  setMac(h: Handle, mac: number, session: number): void;
  deleteMac(h: Handle, mac: number): void;
  setAllSlow(h: Handle, on: boolean): void;
  drain(h: Handle, buf: Buffer, slotBytes: number, meta: Int32Array): number;
  settle(h: Handle): void;
  takeSeen(h: Handle, out: Float64Array): number;
  takeCounters(h: Handle, out: Float64Array): number;
}

let addon: SwitchPathAddon | null | undefined;

/** The addon, or null when it is not built or UMLKIT_SWITCH_FAST_PATH=off (then the engine reads the socket itself). */
function switchPathAddon(): SwitchPathAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.UMLKIT_SWITCH_FAST_PATH === 'off') return addon;
  addon = loadNativeAddon<SwitchPathAddon>('switchpath.node') ?? null;
  return addon;
}

export interface FastCounters {
  readonly session: number;
  readonly rxFrames: number;
  readonly rxBytes: number;
  readonly txFrames: number;
}

const MAX_SEEN = 4096;
const MAX_PORT_COUNTERS = 256;

export class UnicastFastPath {
  readonly #addon: SwitchPathAddon;
  readonly #handle: Handle;
  readonly #seen = new Float64Array(2 * MAX_SEEN);
  readonly #counters = new Float64Array(4 * MAX_PORT_COUNTERS);
  #stopped = false;
  /** What the engine reads instead of the socket: the frames the thread left to it. */
  readonly source: DatagramSource;

  private constructor(a: SwitchPathAddon, fd: number, unixFd: number) {
    this.#addon = a;
    this.#handle = a.start(fd, unixFd);
    const h = this.#handle;
    this.source = {
      watchFd: a.notifyFd(h),
      read: (buf, slot, meta) => a.drain(h, buf, slot, meta),
      settle: () => a.settle(h),
    };
  }

  /**
   * Starts the thread on the UDP socket `fd` and the unix datagram socket `unixFd` (-1: none), which the
   * caller keeps owning; undefined without the addon.
   */
  static start(fd: number, unixFd = -1): UnicastFastPath | undefined {
    const a = switchPathAddon();
    return a ? new UnicastFastPath(a, fd, unixFd) : undefined;
  }

  /** `fast`: frames from and to this port may bypass the engine (it has no impairment). */
  setPort(session: number, udpPort: number, fast: boolean): void {
    if (!this.#stopped) this.#addon.setPort(this.#handle, session, udpPort, fast);
  }

  /** The port is a daemon port; `address` is its guest's 108-byte data socket name (null: not yet known). */
  setPortAddress(session: number, address: Buffer | null): void {
    if (!this.#stopped) this.#addon.setPortAddress(this.#handle, session, address);
  }

  removePort(session: number): void {
    if (!this.#stopped) this.#addon.removePort(this.#handle, session);
  }

  setMac(mac: number, session: number): void {
    if (!this.#stopped) this.#addon.setMac(this.#handle, mac, session);
  }

  deleteMac(mac: number): void {
    if (!this.#stopped) this.#addon.deleteMac(this.#handle, mac);
  }

  /** Every frame through the engine (a capture must see them all). */
  setAllSlow(on: boolean): void {
    if (!this.#stopped) this.#addon.setAllSlow(this.#handle, on);
  }

  /** MACs the thread forwarded from since the last call, with the session of their port. */
  takeSeen(each: (mac: number, session: number) => void): void {
    if (this.#stopped) return;
    for (;;) {
      const n = this.#addon.takeSeen(this.#handle, this.#seen);
      for (let i = 0; i < n; i++) each(this.#seen[2 * i] as number, this.#seen[2 * i + 1] as number);
      if (n < MAX_SEEN) return;
    }
  }

  /** What the thread moved since the last call, per port. */
  takeCounters(each: (c: FastCounters) => void): void {
    if (this.#stopped) return;
    const c = this.#counters;
    const n = this.#addon.takeCounters(this.#handle, c);
    for (let i = 0; i < n; i++) {
      each({
        session: c[4 * i] as number,
        rxFrames: c[4 * i + 1] as number,
        rxBytes: c[4 * i + 2] as number,
        txFrames: c[4 * i + 3] as number,
      });
    }
  }

  /** Joins the thread; the socket may be closed afterwards. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#addon.stop(this.#handle);
  }
}
