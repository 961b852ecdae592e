// `umlkit run -it` through a real pseudo-terminal: a shell, the terminal size, Ctrl-C to the guest.
import { spawn as ptySpawn } from '@lydell/node-pty';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { BIN, createSandbox, type Sandbox } from '../helpers/umlkit-cli.ts';

let box: Sandbox;
beforeAll(() => {
  box = createSandbox();
});
afterEach(() => box.assertClean());
afterAll(() => box.dispose());

it('gives an interactive shell that follows the terminal and takes Ctrl-C', async () => {
  const term = ptySpawn(process.execPath, [BIN, 'run', '-it'], {
    cols: 100,
    rows: 30,
    env: box.env,
    cwd: box.root,
  });
  let screen = '';
  term.onData((d) => {
    screen += d;
  });
  const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
  const waitFor = async (pattern: RegExp, ms = 30_000): Promise<void> => {
    const until = Date.now() + ms;
    while (!pattern.test(screen)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; screen so far:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // Type one line once the shell shows a new prompt, then wait for what it must print.
  const prompts = (): number => screen.split(':/$ ').length - 1;
  const type = async (line: string, expected: RegExp): Promise<void> => {
    const before = prompts();
    term.write(line);
    await waitFor(expected);
    const until = Date.now() + 10_000;
    while (prompts() <= before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  };
  try {
    await waitFor(/:\/\$ /);
    await type('echo answer=$((6*7)); tty\r', /answer=42[\s\S]*\/dev\/pts\/\d+/);
    await type('stty size\r', /30 100/);
    term.resize(132, 40);
    await new Promise((r) => setTimeout(r, 500));
    await type('stty size\r', /40 132/);
    // Ctrl-C reaches the guest's foreground job, not the host: sleep dies of SIGINT, the shell survives.
    term.write('sleep 100\r');
    await waitFor(/sleep 100\r*\n/);
    await new Promise((r) => setTimeout(r, 500));
    term.write('\x03');
    await waitFor(/\^C/, 10_000);
    await type('echo status=$?\r', /status=130/);
    term.write('exit 5\r');
    expect(await exited).toBe(5);
  } finally {
    // SIGINT, as a user's terminal would on close; SIGKILL would bypass umlkit's cleanup.
    term.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  }
});
