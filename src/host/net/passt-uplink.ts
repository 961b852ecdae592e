// The uplink of `--net user`: Debian's passt (user-mode TCP/UDP/ICMP to the host's sockets, DHCP, DNS
// forwarding, port forwarding) behind a small relay from the kernel's L2TPv3 socket to passt's
// length-prefixed frame stream (`passt -F FD`, the qemu stream protocol). No root, no TCP/IP stack of ours.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { quote, UmlError } from '../../core/errors.ts';
import { encodeL2tp, L2TP_HEADER } from '../../core/net/l2tpv3.ts';
import type { PortForward } from '../../core/net/nic-spec.ts';
import { findOnPath } from '../tool.ts';

export const UPLINK = { guestIp: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3' } as const;
const SESSION = 1;

export interface Uplink {
  readonly switchPort: number;
  readonly guestPort: number;
  readonly session: number;
  readonly pid: number;
  stop(): void;
}

export async function startUplink(options: {
  forwards: readonly PortForward[];
  guestPort: number;
  logPath: string;
}): Promise<Uplink> {
  const passt = findOnPath('passt', process.env.PATH);
  if (!passt) {
    throw new UmlError('UPLINK_FAILED', '`--net user` needs passt, which is not installed', {
      hint: 'sudo apt-get install passt (Debian/Ubuntu); or use only `--net NAME` switches',
    });
  }
  const args = [
    '-f',
    '-q',
    '-4',
    '-F',
    '3',
    '-a',
    UPLINK.guestIp,
    '-n',
    String(UPLINK.prefix),
    '-g',
    UPLINK.gateway,
  ];
  args.push('--dns-forward', UPLINK.dns, '-D', UPLINK.dns, '--no-dhcpv6', '--no-ndp', '--no-ra');
  const byProto = { tcp: [] as string[], udp: [] as string[] };
  for (const f of options.forwards) byProto[f.protocol].push(`${f.hostIp}/${f.hostPort}:${f.guestPort}`);
  // passt takes one address per spec: one -t/-u per forward.
  for (const spec of byProto.tcp) args.push('-t', spec);
  for (const spec of byProto.udp) args.push('-u', spec);
  if (process.getuid?.() === 0) args.push('--runas', '0:0');
  const log = openSync(options.logPath, 'a', 0o600);
  const child: ChildProcess = spawn(passt, args, { stdio: ['ignore', log, log, 'pipe'] });
  closeSync(log);
  const stream = child.stdio[3] as Socket;
  const udp: UdpSocket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, '127.0.0.1', () => resolve());
  });
  udp.on('error', () => {});

  // Kernel → passt: strip the L2TPv3 header, prefix the frame's length (32-bit big-endian).
  udp.on('message', (msg, rinfo) => {
    if (rinfo.port !== options.guestPort || msg.length <= L2TP_HEADER || msg.readUInt32BE(4) !== SESSION)
      return;
    const out = Buffer.allocUnsafe(4 + msg.length - L2TP_HEADER);
    out.writeUInt32BE(msg.length - L2TP_HEADER, 0);
    msg.copy(out, 4, L2TP_HEADER);
    stream.write(out);
  });
  // passt → kernel.
  let pending: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const len = pending.readUInt32BE(0);
      if (pending.length < 4 + len) break;
      udp.send(encodeL2tp(SESSION, pending.subarray(4, 4 + len)), options.guestPort, '127.0.0.1');
      pending = pending.subarray(4 + len);
    }
  });
  stream.on('error', () => {});

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const early = await Promise.race([exited, new Promise<'up'>((r) => setTimeout(() => r('up'), 150))]);
  if (early !== 'up') {
    udp.close();
    throw new UmlError(
      'UPLINK_FAILED',
      `passt exited at start (code ${early}) with ${quote(args.join(' '))}`,
      {
        hint: `see ${options.logPath}; a host port given with -p may already be in use, or the host has no default route`,
      },
    );
  }
  return {
    switchPort: udp.address().port,
    guestPort: options.guestPort,
    session: SESSION,
    pid: child.pid ?? 0,
    stop() {
      stream.destroy();
      child.kill('SIGTERM');
      try {
        udp.close();
      } catch {}
    },
  };
}
