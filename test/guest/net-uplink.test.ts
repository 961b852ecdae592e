// The `--net user` uplink (passt) against real kernels, as the unprivileged test user: a guest reaches a
// TCP server on the host's loopback, and a guest HTTP server is reachable from the host through -p.
// Host side: 127.0.0.1 only.
import { createServer as createHttpServer, get } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { processesWithArgs } from '../helpers/net-procs.ts';
import { createSandbox, ensureTestUser, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;
let passtBefore: number[];
beforeAll(() => {
  box = createSandbox(user ? { user } : {});
  passtBefore = processesWithArgs('-F', '3');
});
afterAll(async () => {
  try {
    await umlkit(box, ['rm', '-f', 'web']);
    box.assertClean();
    // No passt survives its machine.
    await new Promise((r) => setTimeout(r, 500));
    expect(processesWithArgs('-F', '3').filter((p) => !passtBefore.includes(p))).toEqual([]);
  } finally {
    box.dispose();
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

it('a guest reaches a TCP server on the host loopback through the gateway address', async () => {
  let peer = '';
  // An HTTP exchange rather than raw nc: its end is defined by the protocol (Content-Length), not by how
  // busybox nc and passt treat a half-close or a reset.
  const server = createHttpServer((req, res) => {
    peer = req.socket.remoteAddress ?? '';
    res.end('hello from the host\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const r = await umlkit(box, [
      'run',
      '--net',
      'user',
      '--',
      'wget',
      '-q',
      '-O',
      '-',
      `http://10.0.2.2:${port}/`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('hello from the host\n');
    expect(peer).toMatch(/127\.0\.0\.1/);
  } finally {
    server.close();
  }
});

it('a guest HTTP server is reachable from the host through -p', async () => {
  const port = await freePort();
  expect((await umlkit(box, ['create', 'web', '-p', `${port}:80`, '--start'])).code).toBe(0);
  const page = 'served by the guest';
  const s = await umlkit(box, [
    'exec',
    'web',
    '--',
    'sh',
    '-c',
    `mkdir -p /tmp/www && echo '${page}' > /tmp/www/index.html && httpd -p 80 -h /tmp/www`,
  ]);
  expect(s.code).toBe(0);
  const body = await new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  expect(body).toBe(`${page}\n`);
});
