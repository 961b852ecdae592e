// The control channel is private: a machine's mconsole and supervisor sockets sit in 0700 directories
// owned by its user, another user gets EACCES, and clients time out (coded error, no hang) when the
// machine is gone.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSandbox, ensureTestUser, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;
beforeAll(() => {
  box = createSandbox(user ? { user } : {});
});
afterAll(() => box.dispose());

/** Connect (stream) and send (datagram) as `nobody`; prints the errno codes. */
const PROBE = `
const net = require('node:net');
const [sup, mc] = process.argv.slice(1);
const s = net.connect(sup);
s.on('connect', () => { console.log('supervisor:CONNECTED'); s.destroy(); tryMc(); });
s.on('error', (e) => { console.log('supervisor:' + e.code); tryMc(); });
function tryMc() {
  try {
    require('node:fs').statSync(mc);
    console.log('mconsole:VISIBLE');
  } catch (e) { console.log('mconsole:' + e.code); }
}`;

it.skipIf(process.getuid?.() !== 0)(
  'another user gets EACCES on both sockets; the dirs are 0700',
  async () => {
    expect((await umlkit(box, ['create', 'ctl', '--start'])).code).toBe(0);
    try {
      const run = join(box.runtimeDir, 'm', 'ctl');
      for (const dir of [box.runtimeDir, run]) expect(statSync(dir).mode & 0o777).toBe(0o700);
      const r = spawnSync(
        'runuser',
        [
          '-u',
          'nobody',
          '--',
          process.execPath,
          '-e',
          PROBE,
          join(run, 'supervisor.sock'),
          join(run, 'ctl', 'mconsole'),
        ],
        { encoding: 'utf8', cwd: '/' },
      );
      expect(r.stdout).toBe('supervisor:EACCES\nmconsole:EACCES\n');
      // The owner still gets through.
      expect((await umlkit(box, ['mconsole', 'ctl', 'version'])).code).toBe(0);
    } finally {
      await umlkit(box, ['rm', '-f', 'ctl']);
    }
  },
);

it('clients of a machine that is gone fail fast with a code', async () => {
  expect((await umlkit(box, ['create', 'gone', '--start'])).code).toBe(0);
  const state = JSON.parse(
    spawnSync('cat', [join(box.stateDir, 'machines', 'gone', 'state.json')], { encoding: 'utf8' }).stdout,
  );
  // Kill everything of the machine behind the tools' back: no stop, no state update.
  process.kill(state.supervisor.pid, 'SIGKILL');
  process.kill(-state.kernel.pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  for (const args of [
    ['mconsole', 'gone', 'version'],
    ['exec', 'gone', '--', 'true'],
    ['stop', 'gone'],
  ]) {
    const t0 = performance.now();
    const r = await umlkit(box, args, { timeoutMs: 20_000 });
    expect(performance.now() - t0).toBeLessThan(5000);
    if (args[0] !== 'stop') {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/^error\[[A-Z_]+\]/);
    }
  }
  await umlkit(box, ['rm', '-f', 'gone']);
});
