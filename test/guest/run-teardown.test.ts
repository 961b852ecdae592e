// Whatever happens to the CLI, the machine goes away: SIGKILL of umlkit leaves the agent line closed,
// the agent powers the guest off, and the next run sweeps the dead run's directory and locks.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSandbox, machineProcesses, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

let box: Sandbox;
beforeAll(() => {
  box = createSandbox();
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

it('SIGKILL of the CLI: the machine powers itself off and the next run cleans up', async () => {
  let cli: import('node:child_process').ChildProcess | undefined;
  const run = umlkit(box, ['run', '--', 'sleep', '60'], { onSpawn: (c) => (cli = c) });
  expect(await waitUntil(() => machineProcesses(box.runtimeDir).length > 0, 20_000)).toBe(true);
  await new Promise((r) => setTimeout(r, 1500));
  cli?.kill('SIGKILL');
  const r = await run;
  expect(r.signal).toBe('SIGKILL');
  expect(await waitUntil(() => machineProcesses(box.runtimeDir).length === 0, 15_000)).toBe(true);
  const next = await umlkit(box, ['run', '--', 'true']);
  expect(next.code).toBe(0);
  box.assertClean();
});

it('SIGTERM of the CLI stops the machine like Ctrl-C', async () => {
  let cli: import('node:child_process').ChildProcess | undefined;
  const run = umlkit(box, ['run', '--', 'sleep', '60'], { onSpawn: (c) => (cli = c) });
  expect(await waitUntil(() => machineProcesses(box.runtimeDir).length > 0, 20_000)).toBe(true);
  cli?.kill('SIGTERM');
  const r = await run;
  expect(r.code).toBe(130);
  expect(r.stderr).toMatch(/^error\[INTERRUPTED\]/);
  box.assertClean();
});
