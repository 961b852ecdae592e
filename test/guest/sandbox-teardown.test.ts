// Teardown of sandboxed machines by every method (stop, SIGKILL of the CLI, of the supervisor, of the
// kernel's main pid, guest panic, guest reboot loop): no process, no lock on the disk, the run dir gone,
// and the disk usable by the next machine at once.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineViews } from '../helpers/sandbox-probe.ts';
import {
  createSandbox,
  ensureTestUser,
  machineProcesses,
  type Sandbox,
  umlkit,
} from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;
let disk: string;

beforeAll(async () => {
  box = createSandbox(user ? { user } : {});
  disk = join(box.root, 'data.ext4');
  const r = await umlkit(box, ['disk', 'create', disk, '--size', '32M']);
  expect(r.code).toBe(0);
});
afterAll(() => box.dispose());

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** POSIX/OFD locks the host kernel holds on the disk (UML's own locks; a dead holder's would linger). */
function hostLocksOn(path: string): string[] {
  const st = statSync(path);
  const major = Math.floor(st.dev / 256);
  const minor = st.dev % 256;
  const suffix = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino} `;
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .filter((l) => l.includes(suffix));
}

async function expectGoneAndReusable(name?: string): Promise<void> {
  expect(await waitUntil(() => machineProcesses(box.runtimeDir).length === 0, 5000)).toBe(true);
  expect(hostLocksOn(disk)).toEqual([]);
  if (name) expect(existsSync(join(box.runtimeDir, 'm', name))).toBe(false);
  const next = await umlkit(box, ['run', '--disk', disk, '--', 'true']);
  expect(next.stderr).toBe('');
  expect(next.code).toBe(0);
}

const kernelMain = (): number | undefined => {
  // The kernel's main process is the one whose parent is bwrap's reaper inside the sandbox.
  const { kernel, launcher } = machineViews(box.runtimeDir);
  const reapers = new Set(launcher.map((l) => l.pid));
  return kernel.find((k) => {
    const ppid = Number(/^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${k.pid}/status`, 'utf8'))?.[1]);
    return reapers.has(ppid);
  })?.pid;
};

async function startMachine(name: string): Promise<void> {
  const r = await umlkit(box, ['create', name, '--disk', disk, '--start']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

async function exitReason(name: string): Promise<string> {
  await waitUntil(() => {
    const s = JSON.parse(readFileSync(join(box.stateDir, 'machines', name, 'state.json'), 'utf8'));
    return s.phase === 'exited';
  }, 30_000);
  return JSON.parse(readFileSync(join(box.stateDir, 'machines', name, 'state.json'), 'utf8')).exit.reason;
}

describe(`sandboxed teardown, as ${user ?? 'the current user'}`, () => {
  it('stop', async () => {
    await startMachine('t-stop');
    expect((await umlkit(box, ['stop', 't-stop'])).code).toBe(0);
    expect(await exitReason('t-stop')).toBe('stopped');
    await expectGoneAndReusable('t-stop');
    await umlkit(box, ['rm', 't-stop']);
  });

  it('SIGKILL of the CLI (umlkit run)', async () => {
    let cli: ChildProcess | undefined;
    const run = umlkit(box, ['run', '--disk', disk, '--', 'sleep', '60'], { onSpawn: (c) => (cli = c) });
    expect(await waitUntil(() => kernelMain() !== undefined, 20_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    // runuser's child is the CLI: kill the whole chain as a user's shell closing would.
    execFileSync('pkill', ['-KILL', '-P', String(cli?.pid)]);
    cli?.kill('SIGKILL');
    await run;
    await expectGoneAndReusable();
  });

  it('SIGKILL of the supervisor', async () => {
    await startMachine('t-sup');
    const state = JSON.parse(readFileSync(join(box.stateDir, 'machines', 't-sup', 'state.json'), 'utf8'));
    process.kill(state.supervisor.pid, 'SIGKILL');
    await expectGoneAndReusable();
    await umlkit(box, ['rm', '-f', 't-sup']);
  });

  it("SIGKILL of the kernel's main pid", async () => {
    await startMachine('t-main');
    const pid = kernelMain();
    expect(pid).toBeDefined();
    process.kill(pid as number, 'SIGKILL');
    expect(await exitReason('t-main')).toBe('kernel-died');
    await expectGoneAndReusable('t-main');
    await umlkit(box, ['rm', 't-main']);
  });

  it('guest panic', async () => {
    await startMachine('t-panic');
    await umlkit(box, ['exec', 't-panic', '--', 'sh', '-c', 'echo c > /proc/sysrq-trigger'], {
      timeoutMs: 20_000,
    });
    expect(await exitReason('t-panic')).toBe('panic');
    await expectGoneAndReusable('t-panic');
    await umlkit(box, ['rm', 't-panic']);
  });

  it('guest reboot loop: stopped after a bounded number of boots', async () => {
    await startMachine('t-loop');
    // The overlay keeps the new inittab across UML's re-exec, so every boot reboots again.
    await umlkit(
      box,
      [
        'exec',
        't-loop',
        '--',
        'sh',
        '-c',
        'echo "::sysinit:/sbin/reboot -f" > /etc/inittab; sync; reboot -f',
      ],
      { timeoutMs: 20_000 },
    );
    expect(await exitReason('t-loop')).toBe('reboot-loop');
    await expectGoneAndReusable('t-loop');
    await umlkit(box, ['rm', 't-loop']);
  });
});
