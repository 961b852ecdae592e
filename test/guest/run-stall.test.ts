// A boot that stops printing before the agent says hello is booted again, once, from a fresh overlay: the
// first boot is frozen here with SIGSTOP (standing in for the fast 6.1 profile's rare livelock,
// docs/kernels.md), with a 2 s stall window instead of 10 s. As the unprivileged test user.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSandbox, ensureTestUser, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;
beforeAll(() => {
  box = createSandbox(user ? { user } : {});
});
afterAll(() => {
  box?.assertClean();
  box?.dispose();
});

/** The kernel pid of the first run dir that records one (written right after the spawn). */
async function firstKernelPid(runtimeDir: string, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const name of existsSync(runtimeDir) ? readdirSync(runtimeDir) : []) {
      try {
        const owner = JSON.parse(readFileSync(join(runtimeDir, name, 'owner.json'), 'utf8'));
        if (owner.kernel?.pid) return owner.kernel.pid as number;
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 3));
  }
  throw new Error('no kernel started');
}

it('boots again when the first boot stalls, and the command still runs', async () => {
  const run = umlkit(box, ['run', '--no-sandbox', '--', 'echo', 'second boot'], {
    env: { UMLKIT_BOOT_STALL_MS: '2000' },
  });
  const pid = await firstKernelPid(box.runtimeDir, 20_000);
  // Unsandboxed, the kernel leads its own process group: stop all of it, as a livelock would look.
  process.kill(-pid, 'SIGSTOP');
  const r = await run;
  expect(r.stderr).toMatch(/warning: the kernel printed nothing for 2 s during boot; booting it again/);
  expect(r.stdout.toString()).toBe('second boot\n');
  expect(r.code).toBe(0);
  // The stopped boot was killed with its group (assertClean checks nothing is left).
  expect(() => process.kill(pid, 0)).toThrow();
});
