// `umlkit mconsole` and Debian's uml_mconsole, run with the same commands on the same real guest, must
// print the same bytes and exit with the same status.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MconsoleClient } from '../../src/mconsole/client.ts';
import {
  type Guest,
  startGuest,
  TIMED_OUT,
  type ToolResult,
  umlkitMconsole,
  umlMconsole,
} from '../helpers/mconsole-guest.ts';

let guest: Guest;
beforeAll(async () => {
  guest = await startGuest('cmp');
  mkdirSync(join(guest.dir, 'data'));
  writeFileSync(join(guest.dir, 'data', 'marker'), 'x\n');
  execFileSync('mke2fs', [
    '-q',
    '-F',
    '-t',
    'ext4',
    '-d',
    join(guest.dir, 'data'),
    join(guest.dir, 'data.img'),
    '8M',
  ]);
  writeFileSync(join(guest.dir, 'log.txt'), `${'from a file '.repeat(60)}\nsecond line\n`);
});
afterAll(async () => {
  await guest?.dispose();
});

const ours = (words: readonly string[]): Promise<ToolResult> =>
  umlkitMconsole(guest.umidDir, words, guest.dir);
const theirs = (words: readonly string[]): Promise<ToolResult> =>
  umlMconsole(guest.socketPath, words, guest.dir);

/** Run both, ours first, and expect identical stdout and status. */
async function same(words: readonly string[]): Promise<ToolResult> {
  const a = await ours(words);
  const b = await theirs(words);
  expect({ stdout: a.stdout, status: a.status }, `umlkit mconsole ${words.join(' ')}`).toEqual({
    stdout: b.stdout,
    status: b.status,
  });
  return a;
}

describe('umlkit mconsole prints what uml_mconsole prints', () => {
  it.each([
    [['version']],
    [['versionXYZ']],
    [['help']],
    [['config', 'ubda']],
    [['config', 'ubdb']],
    [['config', 'con0']],
    [['config', 'ssl0']],
    [['config', 'mem']],
    [['config', 'eth0']],
    [['remove', 'ubdb']],
    [['remove', 'ubd99']],
    [['proc', 'cmdline']],
    [['proc', 'filesystems']],
    [['proc', 'net/dev']],
    [['stack']],
    [['stack', '9999']],
    [['sysrq', 'h']],
    [['go']],
    [['bogus']],
    [['log', 'hello from the comparison test']],
    [['log', 'line with its own newline\n']],
    [['log', '-f', 'log.txt']],
    [['mconsole-version']],
    [['quit']],
  ])('%j', async (words) => {
    await same(words);
  });

  it('hot-plug and unplug of a disk (config ubdb=FILE with a relative path, query, remove)', async () => {
    for (const tool of [ours, theirs]) {
      const plug = await tool(['config', 'ubdb=data.img']);
      expect(plug).toMatchObject({ stdout: 'OK \n', status: 0 });
      // Both make the path absolute against their cwd before sending it.
      expect(await same(['config', 'ubdb'])).toMatchObject({
        stdout: `OK ${guest.dir}/data.img\n`,
        status: 0,
      });
      await same(['proc', 'partitions']);
      expect(await tool(['remove', 'ubdb'])).toMatchObject({ stdout: 'OK \n', status: 0 });
      expect(await same(['remove', 'ubdb'])).toMatchObject({
        stdout: "ERR Device doesn't exist\n",
        status: 237,
      });
    }
  });

  it('stop and go, each tool answering the state the other left', async () => {
    for (const [first, second] of [
      [ours, theirs],
      [theirs, ours],
    ] as const) {
      expect(await first(['stop'])).toMatchObject({ stdout: 'OK stopped\n', status: 0 });
      expect(await second(['stop'])).toMatchObject({ stdout: 'ERR Already stopped\n', status: 1 });
      await same(['version']); // served while stopped
      expect(await second(['go'])).toMatchObject({ stdout: 'OK \n', status: 0 });
      expect(await first(['go'])).toMatchObject({ stdout: 'ERR Not stopped\n', status: 1 });
    }
  });

  it('has the same shape for replies that change from one moment to the next', async () => {
    // uml_mconsole may lose the end of a long reply and hang (see umlMconsole); it gets a few tries.
    const patient = async (words: string[]): Promise<ToolResult> => {
      for (let i = 0; ; i++) {
        const r = await umlMconsole(guest.socketPath, words, guest.dir, 5000);
        if (r.status !== TIMED_OUT || i === 4) return r;
      }
    };
    // Replies of a few packets only: longer ones overflow uml_mconsole's queue (see the stack test).
    for (const words of [
      ['proc', 'uptime'],
      ['proc', 'meminfo'],
    ]) {
      const [a, b] = [await ours(words), await patient(words)];
      expect(a.status).toBe(b.status);
      expect(a.stdout.split('\n')[0]).toBe(b.stdout.split('\n')[0]);
      expect(a.stdout.split('\n').length).toBe(b.stdout.split('\n').length);
    }
    // The stack of a running pid 1 differs between two calls (the kernel may even fault while walking it).
    const [a, b] = [
      await ours(['stack', '1']),
      await umlMconsole(guest.socketPath, ['stack', '1'], guest.dir, 3000),
    ];
    expect(a.status).toBe(0);
    expect(a.stdout.slice(0, 3)).toBe('OK ');
    if (b.status !== TIMED_OUT) expect(b.stdout.slice(0, 3)).toBe('OK ');
  });

  it('prints a stack in the same form for a sleeping kernel thread', async () => {
    // The 6.1 kernel's own output varies here: sometimes it faults while walking the stack.
    const valid =
      /^OK (Stack:\n[\s\S]*Call Trace:\n[\s\S]*\n|Received SIGSEGV in SIGSEGV handler, aborting stack trace!\n+)$/;
    for (let i = 0; i < 4; i++) {
      expect(await ours(['stack', '2'])).toMatchObject({ stdout: expect.stringMatching(valid), status: 0 });
      // uml_mconsole often loses packets of this reply (and hangs when it loses the last one).
      const b = await umlMconsole(guest.socketPath, ['stack', '2'], guest.dir, 3000);
      if (b.status !== TIMED_OUT) expect(b.stdout.slice(0, 3)).toBe('OK ');
    }
  });

  it('receives every packet of long replies, every time (our socket is connected to UML)', async () => {
    const client = new MconsoleClient(guest.socketPath, { timeoutMs: 3000 });
    try {
      const counts = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const r = await client.request('sysrq m');
        expect(r.err).toBe(0);
        expect(r.text).toMatch(/^sysrq: Show Memory\n[\s\S]*pages reserved\n$/);
        counts.add(r.packets.length);
      }
      expect(Math.min(...counts)).toBeGreaterThan(10); // more than the kernel's queue limit
    } finally {
      client.close();
    }
  });

  it('accepts the socket path as well as the umid directory', async () => {
    const a = await umlkitMconsole(guest.socketPath, ['version'], guest.dir);
    expect(a).toMatchObject({ stdout: (await theirs(['version'])).stdout, status: 0 });
  });
});
