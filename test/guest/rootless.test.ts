// The main flows as an unprivileged user: run, disks, the demo, and a kernel fetched into the user's cache.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandbox,
  ensureTestUser,
  expectNoStack,
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
      // A process listed may exit before it is looked at (the launcher's short-lived steps): skip it.
      hostUids = machineProcesses(box.runtimeDir).flatMap((pid) => {
        try {
          return [statSync(`/proc/${pid}`).uid];
        } catch {
          return [];
        }
      });
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

describe(`files ${user ?? 'the current user'} may not read are refused before any boot`, () => {
  /** A non-empty file owned by the unprivileged user (as root) or by us, with `mode`. */
  function fileWithMode(rel: string, mode: number): string {
    const path = join(box.root, rel);
    writeFileSync(path, Buffer.alloc(1 << 20));
    if (user)
      chownSync(path, Number(execFileSync('id', ['-u', user])), Number(execFileSync('id', ['-g', user])));
    chmodSync(path, mode);
    return path;
  }

  beforeAll(() => {
    fileWithMode('locked.img', 0o000);
    fileWithMode('readonly.ext4', 0o444);
    // A directory the user may not enter hides a disk that is readable in itself.
    mkdirSync(join(box.root, 'shut'));
    fileWithMode('shut/inside.ext4', 0o666);
    chmodSync(join(box.root, 'shut'), 0o000);
  });
  afterAll(() => chmodSync(join(box.root, 'shut'), 0o755));

  const cases: [string, string[], string, RegExp, RegExp][] = [
    [
      'an image with mode 000',
      ['run', '--image', './locked.img', '--', 'true'],
      'IMAGE_UNREADABLE',
      /image `.*\/locked\.img` is not readable by you/,
      /fix its permissions/,
    ],
    [
      'an image with mode 000, for a named machine',
      ['create', 'perm-m', '--image', './locked.img'],
      'IMAGE_UNREADABLE',
      /image `.*\/locked\.img` is not readable by you/,
      /fix its permissions/,
    ],
    [
      'a disk with mode 000',
      ['run', '--disk', 'locked.img', '--', 'true'],
      'DISK_UNREADABLE',
      /disk `.*\/locked\.img` is not readable and writable by you/,
      /attach it read-only with `:ro`/,
    ],
    [
      'a read-only disk attached writable',
      ['run', '--disk', 'readonly.ext4', '--', 'true'],
      'DISK_UNREADABLE',
      /disk `.*\/readonly\.ext4` is not readable and writable by you/,
      /attach it read-only with `:ro`/,
    ],
    [
      'a disk in a directory the user may not enter',
      ['run', '--disk', 'shut/inside.ext4:ro', '--', 'true'],
      'DISK_UNREADABLE',
      /disk `.*\/shut\/inside\.ext4` is not reachable by you \(permission denied\)/,
      /a directory on its path/,
    ],
    [
      'disk cat of a disk with mode 000',
      ['disk', 'cat', 'locked.img:/foo.txt'],
      'DISK_UNREADABLE',
      /disk `.*\/locked\.img` is not readable by you/,
      /fix its permissions/,
    ],
    [
      'disk ls of a disk the user may not reach',
      ['disk', 'ls', 'shut/inside.ext4:/'],
      'DISK_UNREADABLE',
      /disk `.*\/shut\/inside\.ext4` is not reachable by you/,
      /a directory on its path/,
    ],
  ];

  it.each(cases)('%s', async (_what, args, code, message, hint) => {
    let booted = false;
    const r = await umlkit(box, args, {
      timeoutMs: 20_000,
      onSpawn: (child) =>
        child.on('spawn', () => {
          const poll = setInterval(() => {
            if (machineProcesses(box.runtimeDir).length > 0) booted = true;
          }, 20);
          child.on('close', () => clearInterval(poll));
        }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error\\[${code}\\]: `));
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(new RegExp(`\\nhint: .*${hint.source}`));
    expectNoStack(r.stderr);
    expect(booted).toBe(false);
  });
});
