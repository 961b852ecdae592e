// The switch engine on real loopback UDP, with node:dgram sockets standing in for the ports' kernels
// (they speak the same L2TPv3 framing UML's vector driver does: 8-byte header, then the frame). The real
// kernels are in test/guest/net-switch.test.ts; this covers batching, learning, flooding, the source
// check and impairments at rates a guest cannot produce.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_IMPAIRMENT } from '../../src/core/net/impairment.ts';
import { encodeL2tp } from '../../src/core/net/l2tpv3.ts';
import { SwitchEngine } from '../../src/host/net/switch-engine.ts';

interface FakeKernel {
  readonly socket: Socket;
  readonly port: number;
  readonly session: number;
  readonly received: Buffer[];
}

const open: (Socket | SwitchEngine)[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function kernel(session: number): Promise<FakeKernel> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  open.push(socket);
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, session, received };
}

const mac = (n: number): Buffer => Buffer.from([0x02, 0, 0, 0, 0, n]);
const frame = (dst: Buffer, src: Buffer, payload: string): Buffer =>
  Buffer.concat([dst, src, Buffer.from([0x88, 0xb5]), Buffer.from(payload.padEnd(46, '.'))]);
const BROADCAST = Buffer.alloc(6, 0xff);

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function setup(n: number): Promise<{ engine: SwitchEngine; k: FakeKernel[] }> {
  const engine = await SwitchEngine.open(0);
  open.push(engine);
  const k: FakeKernel[] = [];
  for (let i = 0; i < n; i++) {
    const fk = await kernel(100 + i);
    engine.addPort({ id: i, session: fk.session, guestPort: fk.port });
    k.push(fk);
  }
  return { engine, k };
}

const send = (from: FakeKernel, engine: SwitchEngine, f: Buffer, session = from.session): void =>
  from.socket.send(encodeL2tp(session, f), engine.udpPort, '127.0.0.1');

describe('switch engine over batched loopback UDP', () => {
  it('floods a broadcast to every other port with each port’s own session, then forwards learnt unicast', async () => {
    const { engine, k } = await setup(3);
    const [a, b, c] = k as [FakeKernel, FakeKernel, FakeKernel];
    send(a, engine, frame(BROADCAST, mac(1), 'hello'));
    await until(() => b.received.length === 1 && c.received.length === 1);
    expect(a.received).toEqual([]);
    expect(b.received[0]?.readUInt32BE(4)).toBe(b.session);
    expect(c.received[0]?.readUInt32BE(4)).toBe(c.session);
    expect(b.received[0]?.subarray(8)).toEqual(frame(BROADCAST, mac(1), 'hello'));
    // b answers a: a's MAC was learnt, so only a gets it.
    send(b, engine, frame(mac(1), mac(2), 'reply'));
    await until(() => a.received.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.received.length).toBe(1);
    expect(a.received[0]?.subarray(8).toString()).toContain('reply');
    expect(engine.stats).toMatchObject({ frames: 2, flooded: 1 });
  });

  it('moves a burst of 5000 frames in order and intact, with the source check on every one', async () => {
    const { engine, k } = await setup(2);
    const [a, b] = k as [FakeKernel, FakeKernel];
    send(b, engine, frame(BROADCAST, mac(2), 'learn b'));
    await until(() => a.received.length === 1);
    for (let i = 0; i < 5000; i++) {
      send(a, engine, frame(mac(2), mac(1), `frame ${i}`));
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1)); // stay under the socket buffers
    }
    // A forged sender: b's session from another UDP port is ignored.
    const forger = await kernel(101);
    send(forger, engine, frame(mac(1), mac(2), 'forged'), b.session);
    await until(() => b.received.length === 5000);
    const texts = b.received.map((p) => p.subarray(22).toString().replace(/\.+$/, ''));
    expect(texts).toEqual(Array.from({ length: 5000 }, (_, i) => `frame ${i}`));
    await new Promise((r) => setTimeout(r, 50));
    expect(a.received.map((p) => p.toString()).some((t) => t.includes('forged'))).toBe(false);
    expect(engine.socket.sendDrops).toBe(0);
  });

  it('keeps delayed frames intact although the batch buffer is reused, and drops all at 100% loss', async () => {
    const { engine, k } = await setup(2);
    const [a, b] = k as [FakeKernel, FakeKernel];
    send(b, engine, frame(BROADCAST, mac(2), 'learn b'));
    await until(() => a.received.length === 1);
    const port = engine.ports.get(1);
    if (!port) throw new Error('no port');
    port.impairment = { ...NO_IMPAIRMENT, delayMs: 30 };
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) send(a, engine, frame(mac(2), mac(1), `late ${i}`));
    await until(() => b.received.length === 100);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(b.received.map((p) => p.subarray(22).toString().replace(/\.+$/, ''))).toEqual(
      Array.from({ length: 100 }, (_, i) => `late ${i}`),
    );
    port.impairment = { ...NO_IMPAIRMENT, loss: 1 };
    b.received.length = 0;
    for (let i = 0; i < 50; i++) send(a, engine, frame(mac(2), mac(1), `lost ${i}`));
    await new Promise((r) => setTimeout(r, 100));
    expect(b.received).toEqual([]);
    expect(engine.stats.dropped).toBe(50);
  });
});
