// The datagram addon on the real host kernel: binary abstract addresses, CLOEXEC, full queues, flock, pidfd.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  abstractAddress,
  addressPath,
  closeFd,
  errno,
  flock,
  formatAddress,
  LOCK,
  pathAddress,
  pidfdOpen,
  UnixDatagramSocket,
  watchReadable,
} from '../../src/host/unix-dgram.ts';

let dir: string;
const open: UnixDatagramSocket[] = [];
const sock = (): UnixDatagramSocket => {
  const s = new UnixDatagramSocket();
  open.push(s);
  return s;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'udg-'));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('UnixDatagramSocket', () => {
  it('binds, sends to and replies to a binary abstract address of the full 108 bytes, byte for byte', async () => {
    // Like a UML daemon-transport port: NULs and high bytes inside the name (pid, then microseconds).
    const name = Buffer.alloc(107);
    name.writeInt32LE(0x04b9, 0);
    name.writeInt32LE(0xa3f1_0080 | 0, 4);
    name[106] = 0xff;
    const a = sock().bind(abstractAddress(name));
    expect(a.localAddress()).toEqual(abstractAddress(name));
    const b = sock().bind(Buffer.alloc(0)); // autobind: the kernel picks "\0" + 5 hex digits
    expect(b.localAddress()).toHaveLength(6);
    expect(formatAddress(b.localAddress())).toMatch(/^@[0-9a-f]{5}$/);

    expect(b.send(Buffer.from('ping'), abstractAddress(name))).toBe('sent');
    const got = await a.receive({ timeoutMs: 2000 });
    expect(got?.data.toString()).toBe('ping');
    expect(got?.from).toEqual(b.localAddress());
    expect(a.send(Buffer.from('pong'), got?.from)).toBe('sent');
    const back = await b.receive({ timeoutMs: 2000 });
    expect(back?.data.toString()).toBe('pong');
    expect(back?.from).toEqual(abstractAddress(name));
  });

  it('reports filesystem senders with the kernel trailing NUL, which addressPath strips', async () => {
    const a = sock().bind(pathAddress(join(dir, 'a')));
    const b = sock().bind(pathAddress(join(dir, 'b')));
    expect(b.send(Buffer.from('x'), pathAddress(join(dir, 'a')))).toBe('sent');
    const got = await a.receive({ timeoutMs: 2000 });
    expect(addressPath(got?.from ?? Buffer.alloc(0))).toBe(join(dir, 'b'));
    expect(b.localAddress()[0]).not.toBe(0);
  });

  it('is not inherited by spawned children (SOCK_CLOEXEC)', () => {
    const s = sock().bind(pathAddress(join(dir, 's')));
    const inode = readlinkSync(`/proc/self/fd/${s.fd}`);
    expect(inode).toMatch(/^socket:\[\d+\]$/);
    // stdin is /dev/null on purpose: seeing it proves the listing works (stdout is a socketpair or a
    // pipe depending on libuv, and what else a child inherits depends on who started the test run).
    const child = spawnSync('/bin/sh', ['-c', 'for f in /proc/$$/fd/*; do readlink "$f"; done; true'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(child.status).toBe(0);
    const links = child.stdout.split('\n');
    expect(links).toContain('/dev/null');
    expect(links).not.toContain(inode);
    // Control: the same listing does show the socket when it is passed on purpose.
    const passed = spawnSync('/bin/sh', ['-c', 'readlink /proc/$$/fd/3'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe', s.fd],
    });
    expect(passed.stdout.trim()).toBe(inode);
  });

  it('returns EAGAIN, not an exception, once a receiver that does not read has a full queue', async () => {
    const rx = sock().bind(pathAddress(join(dir, 'rx')));
    const tx = sock();
    let sent = 0;
    while (sent < 1000 && tx.send(Buffer.from(`m${sent}`), pathAddress(join(dir, 'rx'))) === 'sent') sent++;
    expect(sent).toBeLessThan(1000); // net.unix.max_dgram_qlen (10 by default) + 1
    expect(tx.send(Buffer.from('more'), pathAddress(join(dir, 'rx')))).toBe('EAGAIN');
    for (let i = 0; i < sent; i++)
      expect((await rx.receive({ timeoutMs: 2000 }))?.data.toString()).toBe(`m${i}`);
  });

  it('lets a peer that the receiver is connected to send past the queue limit (what MconsoleClient relies on)', async () => {
    const server = sock().bind(pathAddress(join(dir, 'server')));
    const client = sock().bind(abstractAddress(`udg-test-${process.pid}`));
    client.connect(pathAddress(join(dir, 'server')));
    for (let i = 0; i < 100; i++)
      expect(server.send(Buffer.from(`r${i}`), client.localAddress())).toBe('sent');
    for (let i = 0; i < 100; i++)
      expect((await client.receive({ timeoutMs: 2000 }))?.data.toString()).toBe(`r${i}`);
  });

  it('returns ECONNREFUSED for a socket file nobody listens on and ENOENT for a missing path', () => {
    const gone = new UnixDatagramSocket().bind(pathAddress(join(dir, 'gone')));
    gone.close(); // the file stays, the socket is dead
    const tx = sock();
    expect(tx.send(Buffer.from('x'), pathAddress(join(dir, 'gone')))).toBe('ECONNREFUSED');
    expect(tx.send(Buffer.from('x'), pathAddress(join(dir, 'missing')))).toBe('ENOENT');
    expect(() => sock().connect(pathAddress(join(dir, 'missing')))).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });

  it('throws with the errno name for real misuse (EADDRINUSE)', () => {
    sock().bind(abstractAddress(`udg-dup-${process.pid}`));
    expect(() => sock().bind(abstractAddress(`udg-dup-${process.pid}`))).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    );
  });

  it('resolves receive() with null on timeout and on close', async () => {
    const s = sock().bind(Buffer.alloc(0));
    const t0 = Date.now();
    expect(await s.receive({ timeoutMs: 100 })).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    const pending = s.receive();
    s.close();
    expect(await pending).toBeNull();
  });

  it('refuses socket paths of 108 bytes or more with SOCKET_PATH_TOO_LONG', () => {
    expect(() => pathAddress(`/tmp/${'x'.repeat(103)}`)).toThrow(
      expect.objectContaining({ code: 'SOCKET_PATH_TOO_LONG' }),
    );
    expect(pathAddress(`/tmp/${'x'.repeat(102)}`)).toHaveLength(107);
  });
});

describe('flock and pidfd extras', () => {
  it('flock: a second open file description gets -EWOULDBLOCK until the first unlocks', () => {
    const file = join(dir, 'lock');
    writeFileSync(file, '');
    const a = openSync(file, 'r');
    const b = openSync(file, 'r');
    try {
      expect(flock(a, LOCK.EX | LOCK.NB)).toBe(0);
      expect(flock(b, LOCK.EX | LOCK.NB)).toBe(-errno.EAGAIN);
      expect(flock(a, LOCK.UN)).toBe(0);
      expect(flock(b, LOCK.SH | LOCK.NB)).toBe(0);
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });

  it('pidfd becomes readable when the process exits; a dead pid gives -ESRCH', async () => {
    const child = spawn('/bin/sleep', ['0.2']);
    const fd = pidfdOpen(child.pid as number);
    expect(fd).toBeGreaterThan(0);
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const stop = watchReadable(fd, () => {
        stop();
        resolve();
      });
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    closeFd(fd);
    expect(pidfdOpen(0x3fffffff)).toBe(-errno.ESRCH);
  });
});
