// The main flows as an unprivileged user: run, disks, the demo, and a kernel fetched into the user's cache.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandbox,
  ensureTestUser,
  machineProcesses,
  type Sandbox,
  umlkit,
} from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
const asRoot = process.getuid?.() === 0;
let box: Sandbox;
beforeAll(() => {
  box = createSandbox(user ? { user } : {});
});
afterEach(() => box.assertClean());
afterAll(() => box.dispose());

describe(`as the unprivileged user ${user ?? '(current user)'}`, () => {
  it('is really unprivileged', async () => {
    const r = await umlkit(box, ['doctor']);
    expect(r.code).toBe(0);
    if (asRoot) expect(statSync(box.stateDir).uid).not.toBe(0);
  });

  it('runs a command; the guest is root while every host process of the machine is not', async () => {
    let hostUids: number[] = [];
    const run = umlkit(box, ['run', '--', 'sh', '-c', 'id -u; sleep 2']);
    for (let i = 0; i < 100 && hostUids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      hostUids = machineProcesses(box.runtimeDir).map((pid) => statSync(`/proc/${pid}`).uid);
    }
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('0\n');
    expect(hostUids.length).toBeGreaterThan(0);
    if (asRoot) expect(hostUids.every((uid) => uid !== 0)).toBe(true);
  });

  it('runs the seed walkthrough', async () => {
    const r = await umlkit(box, ['demo']);
    expect(r.stdout.toString()).toContain('= "This is a UML test!"');
    expect(r.stdout.toString()).toContain('demo: OK');
    expect(r.code).toBe(0);
  });

  it('installs a kernel into its own cache without root and boots it', async () => {
    const cache = join(box.root, 'own-cache');
    const env = { UMLKIT_CACHE_DIR: cache };
    const install = await umlkit(box, ['kernel', 'install'], { env, timeoutMs: 300_000 });
    expect(install.stderr).not.toMatch(/error\[/);
    expect(install.code).toBe(0);
    const m = /installed UML kernel (\S+): (\S+)/.exec(install.stdout.toString());
    expect(m?.[2]).toContain(cache);
    const run = await umlkit(box, ['run', '--kernel', m?.[2] as string, '--', 'uname', '-r'], {
      env: { UMLKIT_CACHE_DIR: box.env.UMLKIT_CACHE_DIR as string },
    });
    expect(run.stdout.toString().trim()).toBe(m?.[1]);
  }, 300_000);
});
