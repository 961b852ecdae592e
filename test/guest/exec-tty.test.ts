// `umlkit exec -it` into a running machine through a real pseudo-terminal: size, resize, exit code.
import { spawn as ptySpawn } from '@lydell/node-pty';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, createSandbox, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

let box: Sandbox;
beforeAll(async () => {
  box = createSandbox();
  expect((await umlkit(box, ['create', 'tty1', '--start'])).code).toBe(0);
});
afterAll(async () => {
  await umlkit(box, ['rm', '-f', 'tty1']);
  box.assertClean();
  box.dispose();
});

it('gives the command a terminal of the host terminal size, follows resizes, returns its exit code', async () => {
  const term = ptySpawn(process.execPath, [BIN, 'exec', '-it', 'tty1', '--', 'sh'], {
    cols: 90,
    rows: 20,
    env: box.env,
    cwd: box.root,
  });
  let screen = '';
  term.onData((d) => {
    screen += d;
  });
  const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
  const waitFor = async (pattern: RegExp): Promise<void> => {
    const until = Date.now() + 20_000;
    while (!pattern.test(screen)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitFor(/[#$] /);
    term.write('tty; stty size\r');
    await waitFor(/\/dev\/pts\/\d+[\s\S]*20 90/);
    term.resize(120, 33);
    await new Promise((r) => setTimeout(r, 500));
    term.write('stty size\r');
    await waitFor(/33 120/);
    term.write('exit 9\r');
    expect(await exited).toBe(9);
  } finally {
    term.kill('SIGINT');
  }
});
