// A long-lived machine whose first boot stops printing before the agent says hello is booted again, once,
// by the same supervisor, on the same disks, and `umlkit start` still succeeds: the first boot is frozen
// here with SIGSTOP (standing in for the fast 6.1 profile's rare livelock, docs/kernels.md), with a 2 s
// stall window instead of 10 s. As the unprivileged test user.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSandbox, ensureTestUser, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;
beforeAll(() => {
  box = createSandbox(user ? { user } : {});
});
afterAll(async () => {
  await umlkit(box, ['rm', '-f', 'stall1']);
  box?.assertClean();
  box?.dispose();
});

const statePath = () => join(box.stateDir, 'machines', 'stall1', 'state.json');

/** The kernel pid the supervisor records right after the spawn. */
async function kernelPid(timeoutMs: number, not?: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const pid = JSON.parse(readFileSync(statePath(), 'utf8')).kernel?.pid as number | undefined;
      if (pid && pid !== not) return pid;
    } catch {}
    await new Promise((r) => setTimeout(r, 3));
  }
  throw new Error('no kernel started');
}

const events = (): string[] =>
  readFileSync(join(box.stateDir, 'machines', 'stall1', 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).type as string);

it('boots a stalled first boot again, and the machine comes up', async () => {
  expect((await umlkit(box, ['create', 'stall1'])).code).toBe(0);
  const env = { UMLKIT_BOOT_STALL_MS: '2000' };
  // The freeze must land before the agent's hello (~0.2 s after the spawn): on a loaded host this test's
  // own polling can be late, so a boot that came up first is stopped and the freeze tried again.
  let first = 0;
  for (let attempt = 0; attempt < 4; attempt++) {
    const start = umlkit(box, ['start', 'stall1'], { env });
    first = await kernelPid(20_000, first);
    // The kernel leads its own process group (with the sandbox's helper, if any): stop all of it, as a
    // livelock would look from outside.
    process.kill(-first, 'SIGSTOP');
    const r = await start;
    expect(r.stderr.toString()).toBe('');
    expect(r.code).toBe(0);
    if (events().includes('boot-stalled')) break;
    process.kill(-first, 'SIGCONT');
    expect((await umlkit(box, ['stop', 'stall1'])).code).toBe(0);
  }
  expect(events()).toContain('boot-stalled');
  const second = await kernelPid(1000, first);
  expect(second).not.toBe(first);
  // The frozen boot was killed with its group.
  expect(() => process.kill(first, 0)).toThrow();
  const seen = events();
  expect(seen.lastIndexOf('boot-stalled')).toBeLessThan(seen.lastIndexOf('booting-again'));
  expect(seen.lastIndexOf('booting-again')).toBeLessThan(seen.lastIndexOf('ready'));
  const exec = await umlkit(box, ['exec', 'stall1', '--', 'echo', 'second boot']);
  expect(exec.stdout.toString()).toBe('second boot\n');
  // The console log says what happened.
  const log = join(box.stateDir, 'machines', 'stall1', 'console.log');
  expect(existsSync(log) && readFileSync(log, 'utf8')).toMatch(
    /\[umlkit\] the kernel printed nothing for 2 s/,
  );
  expect((await umlkit(box, ['stop', 'stall1'])).code).toBe(0);
});
