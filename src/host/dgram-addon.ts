// Loads our N-API datagram addon (native/udg/udg.c): the one native seam for sockets. Node core has no
// unix datagram sockets (unix-dgram.ts) and no batched UDP (net/udp-batch.ts, the switch's hot path).
import { quote, UmlError } from '../core/errors.ts';
import { loadNativeAddon, nativeAddonPaths } from './native-addon.ts';

export interface DatagramAddon {
  socket(): number;
  bind(fd: number, addr: Buffer): void;
  connect(fd: number, addr: Buffer): void;
  sendto(fd: number, data: Uint8Array, addr: Buffer | null): number;
  recvfrom(fd: number): { data: Buffer; addr: Buffer } | null;
  getsockname(fd: number): Buffer;
  watch(fd: number, cb: (status: number) => void): void;
  unwatch(fd: number): boolean;
  ref(fd: number, on: boolean): void;
  close(fd: number): void;
  flock(fd: number, op: number): number;
  pidfdOpen(pid: number): number;
  /** A non-blocking CLOEXEC UDP socket bound to 127.0.0.1:port (0: any), both buffers set to bufferBytes. */
  udpSocket(port: number, bufferBytes: number): number;
  udpPort(fd: number): number;
  /** Up to 64 datagrams into slots of buf; meta gets [length (-1: truncated), sender port] per datagram. */
  recvBatch(fd: number, buf: Buffer, slotBytes: number, meta: Int32Array): number;
  /** Sends buffers[i] to 127.0.0.1:ports[i] for i < count; returns how many the kernel took. */
  sendBatch(fd: number, buffers: readonly Uint8Array[], ports: Int32Array, count: number): number;
  readonly constants: Readonly<
    Record<
      | 'LOCK_SH'
      | 'LOCK_EX'
      | 'LOCK_NB'
      | 'LOCK_UN'
      | 'EAGAIN'
      | 'ECONNREFUSED'
      | 'ENOENT'
      | 'ESRCH'
      | 'EWOULDBLOCK'
      | 'MAX_ADDRESS',
      number
    >
  >;
}

let binding: DatagramAddon | undefined;

/** Loaded on first use, so commands that never open a socket work without the addon. */
export function datagramAddon(): DatagramAddon {
  if (binding) return binding;
  const loaded = loadNativeAddon<DatagramAddon>('udg.node');
  if (!loaded) {
    throw new UmlError(
      'NATIVE_ADDON_MISSING',
      `the datagram socket addon was not found at ${quote(nativeAddonPaths('udg.node')[0] as string)}`,
      {
        hint: 'build it with `npm run build` (needs gcc and Node headers in /usr/include/node)',
      },
    );
  }
  binding = loaded;
  return binding;
}
