// Daemon ports on the switch engine: fake 6.1 kernels on real AF_UNIX datagram sockets, bound to full
// 108-byte abstract names as the kernel's daemon driver binds them, beside an L2TPv3 port on loopback UDP.
// The handshake itself is tested through DaemonControl over a real stream socket. Real kernels:
// test/guest/net-daemon.test.ts.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  encodeDaemonRequest,
  encodeSockaddrUn,
  fullAbstractName,
  SOCKADDR_UN_BYTES,
} from '../../src/core/net/daemon-protocol.ts';
import { encodeL2tp } from '../../src/core/net/l2tpv3.ts';
import { DaemonControl } from '../../src/host/net/daemon-control.ts';
import { SwitchEngine } from '../../src/host/net/switch-engine.ts';
import { UnixDatagramSocket } from '../../src/host/unix-dgram.ts';
import { checkTransports, daemonCtlPath } from '../../src/machine/net-attach.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0).reverse()) c();
});

const mac = (n: number): Buffer => Buffer.from([0x02, 0, 0, 0, 0, n]);
const frame = (dst: Buffer, src: Buffer, payload: string): Buffer =>
  Buffer.concat([dst, src, Buffer.from([0x88, 0xb5]), Buffer.from(payload.padEnd(46, '.'))]);
const BROADCAST = Buffer.alloc(6, 0xff);
const uniqueName = (what: string): Buffer =>
  Buffer.from(fullAbstractName(`umlkit-test:${what}:${randomBytes(6).toString('hex')}`));

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface DaemonGuest {
  readonly socket: UnixDatagramSocket;
  readonly name: Buffer;
  readonly received: Buffer[];
}

function daemonGuest(what: string): DaemonGuest {
  const name = uniqueName(what);
  const socket = new UnixDatagramSocket().bind(name);
  closers.push(() => socket.close());
  const received: Buffer[] = [];
  socket.onDatagram((d) => received.push(d.data), { keepAlive: false });
  return { socket, name, received };
}

async function udpGuest(): Promise<{ socket: UdpSocket; port: number; received: Buffer[] }> {
  const socket = createSocket('udp4');
  closers.push(() => socket.close());
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, received };
}

describe.each([
  ['with the native fast path', true],
  ['all in TypeScript', false],
])('daemon ports, %s', (_mode, fastPath) => {
  async function setup() {
    const switchName = uniqueName('switch');
    const engine = await SwitchEngine.open(0, { fastPath, daemonName: switchName });
    closers.push(() => engine.close());
    const a = daemonGuest('a');
    const b = daemonGuest('b');
    const c = await udpGuest();
    engine.addPort({ id: 1, session: 11, guestPort: 0, daemon: { address: a.name } });
    engine.addPort({ id: 2, session: 12, guestPort: 0, daemon: {} });
    engine.setDaemonAddress(2, b.name); // registered later, as a kernel's request does
    engine.addPort({ id: 3, session: 13, guestPort: c.port });
    const toSwitch = (g: DaemonGuest, f: Buffer) => expect(g.socket.send(f, switchName)).toBe('sent');
    return { engine, a, b, c, toSwitch, switchName };
  }

  it('floods and forwards between daemon and L2TPv3 ports, each in its own framing', async () => {
    const { engine, a, b, c, toSwitch } = await setup();
    toSwitch(a, frame(BROADCAST, mac(1), 'hello'));
    await until(() => b.received.length === 1 && c.received.length === 1);
    // A daemon port gets the raw frame; the L2TPv3 port the same frame behind its own session.
    expect(b.received[0]).toEqual(frame(BROADCAST, mac(1), 'hello'));
    expect(c.received[0]?.readUInt32BE(4)).toBe(13);
    expect(c.received[0]?.subarray(8)).toEqual(frame(BROADCAST, mac(1), 'hello'));
    // The L2TPv3 port answers a, and b answers a: both learnt, unicast only to a.
    c.socket.send(encodeL2tp(13, frame(mac(1), mac(3), 'from c')), engine.udpPort, '127.0.0.1');
    toSwitch(b, frame(mac(1), mac(2), 'from b'));
    await until(() => a.received.length === 2);
    expect(a.received.map((f) => f.subarray(14, 20).toString()).sort()).toEqual(['from b', 'from c']);
    // Now both ways are known: a to c leaves as L2TPv3 with c's session.
    toSwitch(a, frame(mac(3), mac(1), 'to c'));
    await until(() => c.received.length === 2);
    expect(c.received[1]?.readUInt32BE(4)).toBe(13);
    expect(c.received[1]?.subarray(22, 26).toString()).toBe('to c');
    expect(b.received.length).toBe(1);
    engine.sync();
    expect(engine.ports.get(1)?.rxFrames).toBe(2);
    expect(engine.ports.get(3)?.txFrames).toBe(2);
  });

  it('moves 2000 frames between two daemon ports in order and intact', async () => {
    const { engine, a, b, toSwitch } = await setup();
    toSwitch(b, frame(BROADCAST, mac(2), 'learn b'));
    toSwitch(a, frame(BROADCAST, mac(1), 'learn a'));
    await until(() => a.received.length === 1 && b.received.length === 1);
    // A few frames in flight at most: a unix datagram queue holds net.unix.max_dgram_qlen (10 here).
    for (let i = 0; i < 2000; i++) {
      toSwitch(a, frame(mac(2), mac(1), `frame ${i}`));
      if (i % 4 === 3) await until(() => b.received.length >= i - 1);
    }
    await until(() => b.received.length === 2001);
    const texts = b.received.slice(1).map((f) => f.subarray(14).toString().replace(/\.+$/, ''));
    expect(texts).toEqual(Array.from({ length: 2000 }, (_, i) => `frame ${i}`));
    engine.sync();
    if (fastPath) expect(engine.stats.fastFrames).toBeGreaterThan(1900);
    else expect(engine.stats.fastFrames).toBe(0);
    expect(engine.ports.get(2)?.txFrames).toBe(2001);
  });

  it('ignores a sender that is not a registered guest, and a port whose guest has not registered', async () => {
    const { engine, a, b, c, toSwitch, switchName } = await setup();
    const stranger = daemonGuest('stranger');
    toSwitch(stranger, frame(BROADCAST, mac(9), 'stranger'));
    // A short name is another abstract address, even with the same first bytes.
    const short = new UnixDatagramSocket().bind(a.name.subarray(0, 40));
    closers.push(() => short.close());
    expect(short.send(frame(BROADCAST, mac(8), 'short'), switchName)).toBe('sent');
    await new Promise((r) => setTimeout(r, 100));
    expect([...a.received, ...b.received, ...c.received]).toEqual([]);
    // A port whose kernel has not registered yet (or went down) receives nothing; the rest still do.
    engine.setDaemonAddress(2, undefined);
    toSwitch(a, frame(BROADCAST, mac(1), 'while b is away'));
    await until(() => c.received.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.received).toEqual([]);
    expect(engine.ports.get(2)?.dropped).toBe(1);
  });
});

describe('daemon control socket', () => {
  it('answers a request_v3 with the switch address and keeps the connection open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ukdc-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'net0.ctl');
    const switchName = uniqueName('sw');
    const registered: Buffer[] = [];
    const refused: string[] = [];
    const control = await DaemonControl.listen(path, encodeSockaddrUn(switchName), {
      onRegister: (addr) => registered.push(addr),
      onRefused: (why) => refused.push(why),
    });
    closers.push(() => control.close());
    const guest = uniqueName('guest');
    const sock = connect(path);
    closers.push(() => sock.destroy());
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    // Written in two pieces: the request may arrive split.
    const req = Buffer.from(encodeDaemonRequest(guest));
    sock.write(req.subarray(0, 50));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(req.subarray(50));
    await until(() => Buffer.concat(got).length >= SOCKADDR_UN_BYTES);
    expect(Buffer.concat(got)).toEqual(Buffer.from(encodeSockaddrUn(switchName)));
    expect(registered).toEqual([guest]);
    expect(sock.destroyed).toBe(false);
    // A version 2 request (which uml_switch refuses too) is dropped with the reason.
    const bad = Buffer.from(encodeDaemonRequest(guest));
    bad[4] = 2;
    const s2 = connect(path);
    closers.push(() => s2.destroy());
    let closed = false;
    s2.on('close', () => {
      closed = true;
    });
    s2.on('error', () => {});
    s2.write(bad);
    await until(() => closed);
    expect(refused).toEqual(['protocol version 2, only 3 is spoken']);
    expect(registered.length).toBe(1);
  });
});

describe('kernels without the daemon driver', () => {
  it('refuses daemon NICs before anything starts, naming the NIC and the kernel', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ukdk-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const vectorOnly = join(dir, 'linux');
    writeFileSync(
      vectorOnly,
      Buffer.concat([Buffer.from('\x7fELF\x02'), Buffer.alloc(59), Buffer.from('vec')]),
    );
    const withDaemon = join(dir, 'linux-daemon');
    writeFileSync(withDaemon, Buffer.from('\x7fELF\x02\0daemon_open : control connect failed, errno = %d'));
    const daemonNic = { kind: 'switch', net: 'lab', ip: 'auto', transport: 'daemon' } as const;
    expect(() => checkTransports([daemonNic], vectorOnly)).toThrow(
      expect.objectContaining({
        code: 'NET_TRANSPORT_UNSUPPORTED',
        message: expect.stringMatching(/`lab,transport=daemon`.*`.*linux`.*CONFIG_UML_NET_DAEMON/),
        hint: expect.stringMatching(/linux\.uml/),
      }),
    );
    expect(() => checkTransports([{ kind: 'daemon', socket: '/tmp/x.ctl' }], vectorOnly)).toThrow(
      /`daemon:\/tmp\/x\.ctl`/,
    );
    // L2TPv3 NICs need nothing of the kernel; a kernel with the driver takes daemon NICs.
    expect(() => checkTransports([{ kind: 'switch', net: 'lab', ip: 'auto' }], vectorOnly)).not.toThrow();
    expect(() => checkTransports([daemonNic], withDaemon)).not.toThrow();
  });

  it('refuses a control socket path the kernel could not hold', () => {
    expect(daemonCtlPath('/tmp/u/m/web', 0)).toBe('/tmp/u/m/web/net0.ctl');
    expect(() => daemonCtlPath(`/tmp/${'d'.repeat(100)}`, 1)).toThrow(
      expect.objectContaining({
        code: 'SOCKET_PATH_TOO_LONG',
        hint: expect.stringMatching(/UMLKIT_RUNTIME_DIR/),
      }),
    );
  });
});
