// Long-lived machines against the real kernel, as the unprivileged test user: lifecycle, exec, console,
// pause/resume, hot-plug, and the truth in `ls` after every kind of crash.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/host/paths.ts';
import { execInMachine } from '../../src/machine/lifecycle.ts';
import {
  createSandbox,
  ensureTestUser,
  machineProcesses,
  type Sandbox,
  umlkit,
} from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;
beforeAll(() => {
  box = createSandbox(user ? { user } : {});
});
afterEach(async () => {
  // Every test removes its machines; nothing may outlive it.
  const names = created.splice(0);
  if (names.length > 0) expect((await umlkit(box, ['rm', '-f', ...names])).code).toBe(0);
  box.assertClean();
});
afterAll(() => box.dispose());

const created: string[] = [];
function machine(name: string): string {
  created.push(name);
  return name;
}

async function ls(): Promise<
  Record<string, { status: string; reason: string | null; problems: string[]; boots: number }>
> {
  const r = await umlkit(box, ['ls', '--json']);
  expect(r.code).toBe(0);
  return Object.fromEntries(
    JSON.parse(r.stdout.toString()).machines.map((m: { name: string }) => [m.name, m]),
  );
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const collect = (() => {
  let text = '';
  return {
    stream: () => {
      text = '';
      const s = new PassThrough();
      s.on('data', (d: Buffer) => (text += d.toString()));
      return s;
    },
    text: () => text,
  };
})();

const state = (name: string): { supervisor: { pid: number }; kernel: { pid: number } } =>
  JSON.parse(readFileSync(join(box.stateDir, 'machines', name, 'state.json'), 'utf8'));

describe('lifecycle', () => {
  it('create, start, exec, stop, start again (the overlay persists), restart, rm', async () => {
    const m = machine('life');
    expect((await umlkit(box, ['create', m])).code).toBe(0);
    expect((await ls())[m]?.status).toBe('created');
    const dup = await umlkit(box, ['create', m]);
    expect(dup.stderr).toMatch(/^error\[MACHINE_EXISTS\]/);
    const start = await umlkit(box, ['start', m]);
    expect(start.stderr).toBe('');
    expect(start.stdout.toString()).toMatch(/life running \(ready in \d+ ms\)/);
    expect((await ls())[m]?.status).toBe('running');

    const ex = await umlkit(box, ['exec', m, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect([ex.code, ex.stdout.toString(), ex.stderr]).toEqual([7, 'out\n', 'err\n']);
    const cat = await umlkit(box, ['exec', m, '--', 'cat'], { input: 'through stdin\n' });
    expect(cat.stdout.toString()).toBe('through stdin\n');
    expect((await umlkit(box, ['exec', m, '--', 'nope'])).code).toBe(127);
    // Through the library without stdin: the agent gives the command a pipe with no writer, so `cat` and
    // `read` see EOF at once (and nothing waits for an end-of-input frame).
    const lib = await execInMachine(
      resolvePaths(box.env),
      m,
      {
        argv: ['sh', '-c', 'cat; read x; echo "read=$?"'],
        env: ['PATH=/bin'],
        cwd: '/',
        tty: false,
        rows: 0,
        cols: 0,
      },
      { stdout: collect.stream(), stderr: new PassThrough().resume() },
    );
    expect((await lib.exit).code).toBe(0);
    expect(collect.text()).toBe('read=1\n');
    expect((await umlkit(box, ['exec', m, '--', 'sh', '-c', 'echo kept > /root/state'])).code).toBe(0);

    const stop = await umlkit(box, ['stop', m]);
    expect(stop.stdout.toString()).toMatch(/life stopped/);
    expect((await ls())[m]?.status).toBe('stopped');
    expect(machineProcesses(box.runtimeDir)).toEqual([]);
    const stopped = await umlkit(box, ['exec', m, '--', 'true']);
    expect(stopped.stderr).toMatch(/^error\[WRONG_STATE\]: machine `life` is stopped; exec needs it running/);

    expect((await umlkit(box, ['start', m])).code).toBe(0);
    expect((await umlkit(box, ['exec', m, '--', 'cat', '/root/state'])).stdout.toString()).toBe('kept\n');
    expect((await umlkit(box, ['restart', m])).code).toBe(0);
    expect((await umlkit(box, ['exec', m, '--', 'cat', '/root/state'])).stdout.toString()).toBe('kept\n');
    const rm = await umlkit(box, ['rm', m]);
    expect(rm.stderr).toMatch(/^error\[WRONG_STATE\]: machine `life` is running/);
    expect((await umlkit(box, ['rm', '-f', m])).code).toBe(0);
    created.pop();
    expect(await ls()).toEqual({});
  });

  it('reports every error of a multi-name verb together', async () => {
    const r = await umlkit(box, ['start', 'ghost-a', 'ghost-b']);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/error\[MACHINE_NOT_FOUND\]/g)).toHaveLength(2);
  });

  it('validates names before creating anything', async () => {
    for (const bad of ['Upper', '_x', 'a b', 'x'.repeat(64)]) {
      const r = await umlkit(box, ['create', bad]);
      expect(r.stderr, bad).toMatch(/^error\[INVALID_NAME\]/);
    }
    const long = await umlkit(box, ['create', 'y'.repeat(40)], {
      env: { UMLKIT_RUNTIME_DIR: `${box.runtimeDir}/${'d'.repeat(40)}` },
    });
    expect(long.stderr).toMatch(
      /^error\[SOCKET_PATH_TOO_LONG\]: socket path .* is \d+ bytes; the limit is 107/,
    );
    expect(await ls()).toEqual({});
  });
});

describe('console, pause, hot-plug', () => {
  it('boots the image init to a login prompt; the console is a round trip; pause freezes the guest', async () => {
    const m = machine('con');
    expect((await umlkit(box, ['create', m, '--start'])).code).toBe(0);
    const paths = resolvePaths(box.env);
    const sock = join(paths.runtimeDir, 'm', m, 'supervisor.sock');
    // Console: the recent output first (the login prompt of busybox getty), then our input's echo.
    const socket = connect(sock);
    let screen = '';
    socket.on('data', (d) => (screen += d.toString()));
    socket.write(`${JSON.stringify({ op: 'console' })}\n`);
    expect(await until(async () => /login:/.test(screen), 20_000)).toBe(true);
    socket.write('root\n');
    expect(await until(async () => /[#$] /.test(screen), 10_000)).toBe(true);
    socket.write('echo marker-$((40+2))\n');
    expect(await until(async () => /marker-42/.test(screen), 10_000)).toBe(true);
    socket.destroy();
    const logs = await umlkit(box, ['logs', m, '--tail', '50']);
    expect(logs.stdout.toString()).toContain('marker-42');

    // Pause: a guest loop appending a line every 100 ms makes no progress until resume.
    await umlkit(box, [
      'exec',
      m,
      '--',
      'sh',
      '-c',
      '(while :; do echo x >> /tmp/ticks; usleep 100000; done) >/dev/null 2>&1 &',
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const count = async (): Promise<number> =>
      Number((await umlkit(box, ['exec', m, '--', 'sh', '-c', 'wc -l < /tmp/ticks'])).stdout.toString());
    expect((await umlkit(box, ['pause', m])).code).toBe(0);
    expect((await ls())[m]?.status).toBe('paused');
    await new Promise((r) => setTimeout(r, 2000));
    expect((await umlkit(box, ['resume', m])).code).toBe(0);
    const a = await count();
    await new Promise((r) => setTimeout(r, 2000));
    const b = await count();
    // 2 s of running adds about 20 lines; the 2 s paused before `a` added none (a is small).
    expect(b - a).toBeGreaterThan(8);
    expect(a).toBeLessThan(b - a + 8);
  });

  it('hot-plugs a disk through mconsole config and the guest sees it', async () => {
    const m = machine('plug');
    expect((await umlkit(box, ['disk', 'create', 'plug.ext4', '--size', '8M'])).code).toBe(0);
    // The sandbox shows a machine only its own files, so mconsole can attach nothing else (that is the
    // point of it, see docs/security.md); hot-plugging an arbitrary host file needs --no-sandbox.
    expect((await umlkit(box, ['create', m, '--no-sandbox', '--start'])).code).toBe(0);
    const version = await umlkit(box, ['mconsole', m, 'version']);
    expect(version.stdout.toString()).toMatch(/^OK Linux \S+ 6\.1\./);
    const plug = await umlkit(box, ['mconsole', m, 'config', `ubdc=${join(box.root, 'plug.ext4')}`]);
    expect([plug.code, plug.stdout.toString()]).toEqual([0, 'OK \n']);
    const r = await umlkit(box, [
      'exec',
      m,
      '--',
      'sh',
      '-c',
      'mkdir -p /p && mount /dev/ubdc /p && ls /p && umount /p',
    ]);
    expect(r.stdout.toString()).toContain('lost+found');
  });
});

describe('the truth after crashes, and recovery', () => {
  it('kill -9 of the supervisor: broken then crashed, no orphan; start recovers', async () => {
    const m = machine('sup');
    expect((await umlkit(box, ['create', m, '--start'])).code).toBe(0);
    process.kill(state(m).supervisor.pid, 'SIGKILL');
    expect(['broken', 'crashed']).toContain((await ls())[m]?.status);
    // The agent sees its line close and powers the guest off.
    expect(await until(async () => (await ls())[m]?.status === 'crashed', 30_000)).toBe(true);
    expect((await ls())[m]?.reason).toBe('the supervisor was killed');
    expect(machineProcesses(box.runtimeDir)).toEqual([]);
    expect((await umlkit(box, ['start', m])).code).toBe(0);
    expect((await umlkit(box, ['exec', m, '--', 'true'])).code).toBe(0);
  });

  it('kill -9 of the kernel: crashed with the reason; start recovers', async () => {
    const m = machine('kern');
    expect((await umlkit(box, ['create', m, '--start'])).code).toBe(0);
    process.kill(state(m).kernel.pid, 'SIGKILL');
    expect(await until(async () => (await ls())[m]?.status === 'crashed', 10_000)).toBe(true);
    expect((await ls())[m]?.reason).toMatch(/kernel-died: killed by SIGKILL/);
    expect(machineProcesses(box.runtimeDir)).toEqual([]);
    expect((await umlkit(box, ['start', m])).code).toBe(0);
  });

  it('a reboot loop with --on-reboot-loop restart gets one fresh start, then stops', async () => {
    const m = machine('loop');
    expect((await umlkit(box, ['create', m, '--on-reboot-loop', 'restart', '--start'])).code).toBe(0);
    // Every boot now ends in a reboot: a loop.
    await umlkit(box, ['exec', m, '--', 'sh', '-c', 'echo "reboot -f" >> /etc/init.d/rcS; reboot -f']);
    const events = (): string[] =>
      readFileSync(join(box.stateDir, 'machines', m, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(await until(async () => events().includes('restarting'), 60_000)).toBe(true);
    expect(
      await until(
        async () =>
          (await ls())[m]?.status === 'crashed' && events().filter((e) => e === 'reboot-loop').length === 2,
        60_000,
      ),
    ).toBe(true);
    expect((await ls())[m]?.reason).toMatch(/^reboot-loop/);
    expect(events().filter((e) => e === 'restarting')).toHaveLength(1);
    expect(machineProcesses(box.runtimeDir)).toEqual([]);
    const bad = await umlkit(box, ['create', 'x1', '--on-reboot-loop', 'sometimes']);
    expect(bad.stderr).toMatch(/^error\[USAGE\]: --on-reboot-loop `sometimes`/);
  }, 150_000);

  it('a guest reboot comes back running, boots counted; a panic is crashed: panic', async () => {
    const m = machine('boots');
    expect((await umlkit(box, ['create', m, '--start'])).code).toBe(0);
    await umlkit(box, ['exec', m, '--', 'reboot']);
    expect(await until(async () => (await ls())[m]?.boots === 2, 30_000)).toBe(true);
    expect((await ls())[m]?.status).toBe('running');
    expect((await umlkit(box, ['exec', m, '--', 'true'])).code).toBe(0);
    const p = await umlkit(box, ['exec', m, '--', 'sh', '-c', 'echo c > /proc/sysrq-trigger']);
    expect(p.stderr).toContain('the machine went down while the command ran');
    expect(await until(async () => (await ls())[m]?.status === 'crashed', 10_000)).toBe(true);
    expect((await ls())[m]?.reason).toMatch(/^panic: sysrq triggered crash/);
    expect(machineProcesses(box.runtimeDir)).toEqual([]);
    expect((await umlkit(box, ['start', m])).code).toBe(0);
  });
});
