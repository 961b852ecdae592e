// MconsoleClient, the notify listener and `umlkit mconsole` against a fake mconsole server on real sockets.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { isUmlError } from '../../src/core/errors.ts';
import { decodeRequest, encodeNotify, encodeReply } from '../../src/core/mconsole/codec.ts';
import { NOTIFY } from '../../src/core/mconsole/constants.ts';
import { pathAddress, UnixDatagramSocket } from '../../src/host/unix-dgram.ts';
import { MconsoleClient } from '../../src/mconsole/client.ts';
import { MconsoleNotifyListener } from '../../src/mconsole/notify.ts';

let dir: string;
let server: UnixDatagramSocket;
let serverPath: string;
/** Held-back replies of the `hang` command, to be released later as a late answer. */
let held: { to: Buffer; packets: Uint8Array[] } | undefined;
const cleanups: (() => void)[] = [];

// Answers like the kernel would for a few commands, and misbehaves on demand.
function answer(command: string): Uint8Array[][] {
  if (command === 'version') return [encodeReply('Linux fake 6.1.176')];
  if (command.startsWith('remove')) return [encodeReply("Device doesn't exist", -19)];
  if (command === 'long') return [encodeReply('x'.repeat(2000))];
  if (command === 'lines') {
    const lines = Array.from({ length: 200 }, (_, i) => encodeReply(`line ${i}\n`, 0, true)[0] as Uint8Array);
    return [[...lines, ...encodeReply('')]];
  }
  if (command === 'double') return [encodeReply('first'), encodeReply('second')];
  if (command.startsWith('echo ')) return [encodeReply(command.slice(5))];
  return [encodeReply('Unknown command', 1)];
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mc-'));
  serverPath = join(dir, 'mconsole');
  server = new UnixDatagramSocket().bind(pathAddress(serverPath));
  held = undefined;
  server.onDatagram((d) => {
    const { command } = decodeRequest(d.data);
    if (command === 'hang') {
      held = { to: d.from, packets: encodeReply('late answer') };
      return;
    }
    const delay = command.startsWith('echo slow') ? 50 : 0;
    setTimeout(() => {
      for (const reply of answer(command)) for (const p of reply) server.send(p, d.from);
    }, delay);
  });
});
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = (timeoutMs = 2000): MconsoleClient => {
  const c = new MconsoleClient(serverPath, { timeoutMs });
  cleanups.push(() => c.close());
  return c;
};

describe('MconsoleClient', () => {
  it('returns the text, and err ≠ 0 as a result (or MCONSOLE_FAILED from run())', async () => {
    const c = client();
    expect(await c.version()).toBe('Linux fake 6.1.176');
    const r = await c.request('remove ubd1');
    expect(r).toMatchObject({ err: -19, text: "Device doesn't exist" });
    await expect(c.remove('ubd1')).rejects.toMatchObject({ code: 'MCONSOLE_FAILED' });
  });

  it('assembles multi-packet replies, including 200 packets sent back to back', async () => {
    const c = client();
    expect((await c.request('long')).text).toBe('x'.repeat(2000));
    const lines = await c.request('lines');
    expect(lines.packets).toHaveLength(201);
    expect(lines.text.split('\n')[199]).toBe('line 199');
  });

  it('runs concurrent requests one at a time, each getting its own reply', async () => {
    const c = client();
    const replies = await Promise.all([c.run('echo slow 1'), c.run('echo 2'), c.run('echo slow 3')]);
    expect(replies).toEqual(['slow 1', '2', 'slow 3']);
  });

  it('times out with MCONSOLE_UNREACHABLE, and a late reply never answers the next request', async () => {
    const c = client(200);
    await expect(c.request('hang')).rejects.toMatchObject({ code: 'MCONSOLE_UNREACHABLE' });
    for (const p of held?.packets ?? []) server.send(p, held?.to); // the late answer, to the old address
    expect(await c.run('echo next')).toBe('next');
  });

  it('drops stale replies queued before a request is sent', async () => {
    const c = client();
    expect(await c.run('double')).toBe('first');
    await new Promise((r) => setTimeout(r, 50)); // let "second" arrive
    expect(await c.run('echo fresh')).toBe('fresh');
  });

  it('reports a missing socket and a dead one as MCONSOLE_UNREACHABLE', async () => {
    await expect(new MconsoleClient(join(dir, 'nothing')).version()).rejects.toMatchObject({
      code: 'MCONSOLE_UNREACHABLE',
    });
    const dead = new UnixDatagramSocket().bind(pathAddress(join(dir, 'dead')));
    dead.close();
    const err = await new MconsoleClient(join(dir, 'dead')).version().catch((e: unknown) => e);
    expect(isUmlError(err, 'MCONSOLE_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toMatch(/nobody is listening/);
  });
});

describe('MconsoleNotifyListener', () => {
  it('decodes what arrives, ignores garbage, and waits for a type', async () => {
    const path = join(dir, 'notify');
    const listener = new MconsoleNotifyListener(path);
    cleanups.push(() => listener.close());
    const tx = new UnixDatagramSocket();
    cleanups.push(() => tx.close());
    const waiting = listener.waitFor(NOTIFY.USER_NOTIFY, { timeoutMs: 2000 });
    tx.send(encodeNotify(NOTIFY.SOCKET, `${serverPath}\0`), pathAddress(path));
    tx.send(new Uint8Array([1, 2, 3]), pathAddress(path));
    tx.send(encodeNotify(NOTIFY.USER_NOTIFY, 'booted'), pathAddress(path));
    expect((await waiting)?.text).toBe('booted');
    expect(await listener.socketPath()).toBe(serverPath);
    expect(listener.invalid).toBe(1);
    expect(await listener.waitFor(NOTIFY.PANIC, { timeoutMs: 50 })).toBeNull();
    listener.close();
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a stale socket but refuses to delete another kind of file', () => {
    const stale = join(dir, 'stale');
    new UnixDatagramSocket().bind(pathAddress(stale)).close();
    new MconsoleNotifyListener(stale).close();
    const file = join(dir, 'file');
    writeFileSync(file, 'keep me');
    expect(() => new MconsoleNotifyListener(file)).toThrow(
      expect.objectContaining({ code: 'STATE_CORRUPT' }),
    );
    expect(existsSync(file)).toBe(true);
  });
});

describe('umlkit mconsole', () => {
  async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => (out += c));
    stderr.on('data', (c) => (err += c));
    const code = await main(argv, { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: dir });
    return { code, stdout: out, stderr: err };
  }

  it('prints OK/ERR lines and exits with err mod 256, for a socket path or its directory', async () => {
    expect(await cli(['mconsole', serverPath, 'version'])).toEqual({
      code: 0,
      stdout: 'OK Linux fake 6.1.176\n',
      stderr: '',
    });
    expect(await cli(['mconsole', dir, 'remove', 'ubd1'])).toMatchObject({
      code: 237,
      stdout: "ERR Device doesn't exist\n",
    });
    expect(await cli(['mconsole', 'mconsole', 'mconsole-version'])).toMatchObject({
      code: 0,
      stdout: 'uml_mconsole client version 2\n',
    });
  });

  it('explains usage errors and unreachable targets on stderr', async () => {
    expect(await cli(['mconsole', serverPath])).toMatchObject({ code: 2, stdout: '' });
    const r = await cli(['mconsole', join(dir, 'nope'), 'version']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[MCONSOLE_UNREACHABLE\]/);
    const t = await cli(['mconsole', '--timeout', '200ms', serverPath, 'hang']);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/no reply .* within 200 ms/);
  });
});
