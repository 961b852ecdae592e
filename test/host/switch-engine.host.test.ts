// The switch engine on real loopback UDP, with node:dgram sockets standing in for the ports' kernels
// (they speak the same L2TPv3 framing UML's vector driver does: 8-byte header, then the frame). The real
// kernels are in test/guest/net-switch.test.ts; this covers batching, learning, flooding, the source
// check and impairments at rates a guest cannot produce.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_IMPAIRMENT } from '../../src/core/net/impairment.ts';
import { encodeL2tp } from '../../src/core/net/l2tpv3.ts';
import { type EngineOptions, SwitchEngine } from '../../src/host/net/switch-engine.ts';

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

async function setupWith(
  n: number,
  options: EngineOptions = {},
): Promise<{ engine: SwitchEngine; k: FakeKernel[] }> {
  const engine = await SwitchEngine.open(0, options);
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

describe.each([
  ['with the native fast path', true],
  ['all in TypeScript', false],
])('switch engine over batched loopback UDP, %s', (_mode, fastPath) => {
  const setup = (n: number) => setupWith(n, { fastPath });
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
    engine.sync();
    expect(engine.fastPath).toBe(fastPath);
    // Only the frames before a's MAC was learnt (and that reached the engine meanwhile) take the slow path.
    if (fastPath) expect(engine.stats.fastFrames).toBeGreaterThan(4000);
    else expect(engine.stats.fastFrames).toBe(0);
    expect(engine.stats.frames).toBe(5001);
    expect(engine.ports.get(0)?.rxFrames).toBe(5000);
    expect(engine.ports.get(1)?.txFrames).toBe(5000);
  });

  it('keeps delayed frames intact although the batch buffer is reused, and drops all at 100% loss', async () => {
    const { engine, k } = await setup(2);
    const [a, b] = k as [FakeKernel, FakeKernel];
    send(b, engine, frame(BROADCAST, mac(2), 'learn b'));
    await until(() => a.received.length === 1);
    const port = engine.ports.get(1);
    if (!port) throw new Error('no port');
    engine.setImpairment(port.id, { ...NO_IMPAIRMENT, delayMs: 30 });
    // a's MAC learnt before the test frames, so they would all be fast-path candidates.
    send(a, engine, frame(BROADCAST, mac(1), 'learn a'));
    await until(() => b.received.length === 1);
    b.received.length = 0;
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) send(a, engine, frame(mac(2), mac(1), `late ${i}`));
    await until(() => b.received.length === 100);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(b.received.map((p) => p.subarray(22).toString().replace(/\.+$/, ''))).toEqual(
      Array.from({ length: 100 }, (_, i) => `late ${i}`),
    );
    engine.setImpairment(port.id, { ...NO_IMPAIRMENT, loss: 1 });
    b.received.length = 0;
    for (let i = 0; i < 50; i++) send(a, engine, frame(mac(2), mac(1), `lost ${i}`));
    await new Promise((r) => setTimeout(r, 100));
    expect(b.received).toEqual([]);
    expect(engine.stats.dropped).toBe(50);
    engine.sync();
    expect(engine.stats.fastFrames).toBe(0); // an impaired port's frames all go through the engine
  });
});

describe('the native fast path', () => {
  const learnt = async (n: number, options: EngineOptions = {}) => {
    const s = await setupWith(n, options);
    for (const [i, fk] of s.k.entries()) send(fk, s.engine, frame(BROADCAST, mac(i + 1), 'hello'));
    await until(() => s.k.every((fk) => fk.received.length === n - 1));
    for (const fk of s.k) fk.received.length = 0;
    return s;
  };

  it('stands aside while a capture runs: the tap sees every frame', async () => {
    const { engine, k } = await learnt(2);
    const [a, b] = k as [FakeKernel, FakeKernel];
    const records: Uint8Array[] = [];
    const tap = { write: (r: Uint8Array) => records.push(r) };
    engine.addTap(tap);
    for (let i = 0; i < 100; i++) send(a, engine, frame(mac(2), mac(1), `seen ${i}`));
    await until(() => b.received.length === 100);
    expect(records.length).toBe(100);
    engine.sync();
    expect(engine.stats.fastFrames).toBe(0);
    engine.removeTap(tap);
    for (let i = 0; i < 100; i++) send(a, engine, frame(mac(2), mac(1), `fast ${i}`));
    await until(() => b.received.length === 200);
    expect(records.length).toBe(100);
    engine.sync();
    expect(engine.stats.fastFrames).toBe(100);
  });

  it('forgets a removed port at once: frames for its MAC are flooded to the others, none reach it', async () => {
    const { engine, k } = await learnt(3);
    const [a, b, c] = k as [FakeKernel, FakeKernel, FakeKernel];
    send(a, engine, frame(mac(2), mac(1), 'to b'));
    await until(() => b.received.length === 1);
    engine.removePort(1);
    send(a, engine, frame(mac(2), mac(1), 'b is gone'));
    await until(() => c.received.length === 1); // unknown again: flooded
    await new Promise((r) => setTimeout(r, 50));
    expect(b.received.length).toBe(1);
    expect(engine.macEntries().map((e) => e.port)).not.toContain(1);
  });

  it('keeps MACs it forwards from alive in the aging table, and ages out the silent ones', async () => {
    const { engine, k } = await learnt(3, { agingMs: 400 });
    const [a, b] = k as [FakeKernel, FakeKernel, FakeKernel];
    const end = Date.now() + 700;
    while (Date.now() < end) {
      send(a, engine, frame(mac(2), mac(1), 'keepalive'));
      await new Promise((r) => setTimeout(r, 20));
      engine.sync();
    }
    await until(() => b.received.length > 10);
    engine.sync();
    expect(engine.stats.fastFrames).toBeGreaterThan(10);
    const macs = engine.macEntries().map((e) => e.mac);
    expect(macs).toContain('02:00:00:00:00:01'); // a: refreshed by the frames the thread forwarded
    expect(macs).not.toContain('02:00:00:00:00:03'); // c: silent since it was learnt
  });
});
