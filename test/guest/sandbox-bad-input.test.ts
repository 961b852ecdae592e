// The bad-input corpus (security research §3.4 and more), as an unprivileged user: every case ends within
// 5 s with a coded one-line error (or, for the few that must boot, a guest that sees no host file), no
// hang, no stack trace, nothing left behind.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, ensureTestUser, expectNoStack, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;
const f = (name: string): string => join(box.root, name);
const LONG = 'x'.repeat(230);

beforeAll(() => {
  box = createSandbox(user ? { user } : {});
  writeFileSync(f('garbage.img'), Buffer.alloc(1000, 0x5a));
  writeFileSync(f('zeros.img'), Buffer.alloc(0));
  truncateSync(f('zeros.img'), 64 * 1024 * 1024);
  writeFileSync(f('sparse.img'), Buffer.alloc(0));
  truncateSync(f('sparse.img'), 1024 ** 4);
  writeFileSync(f('empty.img'), Buffer.alloc(0));
  writeFileSync(f('a.img'), Buffer.alloc(1024 * 1024));
  writeFileSync(f('b.img'), Buffer.alloc(1024 * 1024));
  writeFileSync(f('ro.img'), Buffer.alloc(1024 * 1024));
  writeFileSync(f('noperm.img'), Buffer.alloc(1024 * 1024));
  writeFileSync(f('afile'), 'x');
  writeFileSync(f('a,b.img'), Buffer.alloc(1024));
  writeFileSync(f('a b.img'), Buffer.alloc(1024));
  for (let i = 0; i < 15; i++) writeFileSync(f(`${LONG}${i}`), Buffer.alloc(1024));
  linkSync(f('a.img'), f('a-hard.img'));
  symlinkSync(f('a.img'), f('a-sym.img'));
  symlinkSync(f('loop1'), f('loop2'));
  symlinkSync(f('loop2'), f('loop1'));
  mkdirSync(f('adir'));
  mkdirSync(f('share'));
  mkdirSync(f('sh,are'));
  execFileSync('mkfifo', [f('fifo')]);
  symlinkSync(f('fifo'), f('fifo-link'));
  // A COW header that names a host file: with the `d` flag the guest must see these raw bytes.
  execFileSync(process.execPath, [
    join(import.meta.dirname, '../../bin/umlkit.js'),
    'cow',
    'create',
    f('evil.cow'),
    '--base',
    '/etc/hostname',
  ]);
  if (user) {
    const uid = Number(execFileSync('id', ['-u', user]).toString());
    const gid = Number(execFileSync('id', ['-g', user]).toString());
    for (const n of [
      'a.img',
      'b.img',
      'ro.img',
      'noperm.img',
      'evil.cow',
      'share',
      'garbage.img',
      'zeros.img',
      'sparse.img',
      'empty.img',
      'a,b.img',
      'a b.img',
      'afile',
    ])
      chownSync(f(n), uid, gid);
    for (let i = 0; i < 15; i++) chownSync(f(`${LONG}${i}`), uid, gid);
  }
  chmodSync(f('ro.img'), 0o444);
  chmodSync(f('noperm.img'), 0o000);
});
afterEach(() => box.assertClean());
afterAll(() => box.dispose());

type Case = [what: string, args: () => string[], code: string, env?: Record<string, string>];
const run = (...a: string[]): string[] => ['run', ...a, '--', 'true'];

const cases: Case[] = [
  ['a missing image', () => run('--image', f('nope.img')), 'IMAGE_NOT_FOUND'],
  ['a directory as the image', () => run('--image', f('adir')), 'IMAGE_'],
  ['a FIFO as the image', () => run('--image', f('fifo')), 'IMAGE_UNREADABLE'],
  ['/dev/zero as the image', () => run('--image', '/dev/zero'), 'IMAGE_UNREADABLE'],
  ['an empty image', () => run('--image', f('empty.img')), 'IMAGE_UNREADABLE'],
  ['a symlink loop as the image', () => run('--image', f('loop1')), 'IMAGE_'],
  ['1000 bytes of garbage as the image', () => run('--image', f('garbage.img')), 'IMAGE_UNREADABLE'],
  ['64M of zeros as the image', () => run('--image', f('zeros.img')), 'IMAGE_UNREADABLE'],
  ['a 1 TiB sparse image', () => run('--image', f('sparse.img')), 'IMAGE_UNREADABLE'],
  ['a COW file as the image', () => run('--image', f('evil.cow')), 'COW_INVALID'],
  [
    'a COW header naming a host file as a disk',
    () => run('--disk', `${f('evil.cow')}:ro`),
    'DISK_UNREADABLE',
  ],
  ['a missing disk', () => run('--disk', f('nope.img')), 'DISK_NOT_FOUND'],
  ['a directory as a disk', () => run('--disk', f('adir')), 'DISK_UNREADABLE'],
  ['a FIFO as a disk', () => run('--disk', f('fifo')), 'DISK_UNREADABLE'],
  ['a symlink to a FIFO as a disk', () => run('--disk', f('fifo-link')), 'DISK_UNREADABLE'],
  ['/dev/zero as a disk', () => run('--disk', '/dev/zero'), 'DISK_UNREADABLE'],
  ['/dev/null as a disk', () => run('--disk', '/dev/null'), 'DISK_UNREADABLE'],
  ['an empty disk', () => run('--disk', f('empty.img')), 'DISK_UNREADABLE'],
  ['a symlink loop as a disk', () => run('--disk', f('loop1')), 'DISK_NOT_FOUND'],
  ['the same disk twice', () => run('--disk', f('a.img'), '--disk', f('a.img')), 'DISK_DUPLICATE'],
  [
    'the same disk rw and ro',
    () => run('--disk', f('a.img'), '--disk', `${f('a.img')}:ro`),
    'DISK_DUPLICATE',
  ],
  ['a hard link of a disk', () => run('--disk', f('a.img'), '--disk', f('a-hard.img')), 'DISK_DUPLICATE'],
  [
    'a symlink to a disk',
    () => run('--disk', f('a.img'), '--disk', `${f('a-sym.img')}:ro`),
    'DISK_DUPLICATE',
  ],
  [
    '16 disks: a ubd index out of range',
    () => run(...Array.from({ length: 16 }, () => ['--disk', `${f('a.img')}:ro`]).flat()),
    'DISK_DUPLICATE',
  ],
  [
    '16 distinct disks: a ubd index out of range',
    () =>
      run(
        ...Array.from({ length: 16 }, (_, i) => [
          '--disk',
          `${f(i < 15 ? `${LONG}${i}` : 'b.img')}:ro`,
        ]).flat(),
      ),
    'USAGE',
  ],
  [
    '15 disks with long paths: the kernel command line overflows',
    () => run(...Array.from({ length: 15 }, (_, i) => ['--disk', `${f(`${LONG}${i}`)}:ro`]).flat()),
    'USAGE',
  ],
  ['a disk path with a comma', () => run('--disk', f('a,b.img')), 'PATH_UNSUPPORTED'],
  ['a disk path with a space', () => run('--disk', f('a b.img')), 'PATH_UNSUPPORTED'],
  ['a disk path with a colon', () => run('--disk', `${f('a')}:b.img`), 'INVALID_DISK_SPEC'],
  ['a bad disk mode', () => run('--disk', `${f('a.img')}:rx`), 'INVALID_DISK_SPEC'],
  ['--mem 0', () => run('--mem', '0'), 'INVALID_SIZE'],
  ['--mem 1', () => run('--mem', '1'), 'MEMORY_TOO_LARGE'],
  ['--mem 1K', () => run('--mem', '1K'), 'MEMORY_TOO_LARGE'],
  ['--mem 1M', () => run('--mem', '1M'), 'MEMORY_TOO_LARGE'],
  ['--mem 16M', () => run('--mem', '16M'), 'MEMORY_TOO_LARGE'],
  ['--mem 100G (more than this host)', () => run('--mem', '100G'), 'MEMORY_TOO_LARGE'],
  ['--mem 1T (UML spins forever)', () => run('--mem', '1T'), 'MEMORY_TOO_LARGE'],
  ['--mem 100000000G', () => run('--mem', '100000000G'), 'INVALID_SIZE'],
  ['--mem abc', () => run('--mem', 'abc'), 'INVALID_SIZE'],
  ['--mem -5M', () => run('--mem', '-5M'), 'INVALID_SIZE'],
  ['a missing share', () => run('--share', `${f('nope')}:/mnt`), 'SHARE_UNUSABLE'],
  ['a file as a share', () => run('--share', `${f('afile')}:/mnt`), 'SHARE_UNUSABLE'],
  ['a relative guest share dir', () => run('--share', `${f('share')}:mnt`), 'INVALID_SHARE_SPEC'],
  ['a guest share dir with ..', () => run('--share', `${f('share')}:/mnt/../etc`), 'INVALID_SHARE_SPEC'],
  ['the guest root as a share dir', () => run('--share', `${f('share')}:/`), 'INVALID_SHARE_SPEC'],
  [
    'a share without the sandbox',
    () => run('--no-sandbox', '--share', `${f('share')}:/mnt`),
    'INVALID_SHARE_SPEC',
  ],
  [
    'two shares at one guest dir',
    () => run('--share', `${f('share')}:/mnt`, '--share', `${f('adir')}:/mnt`),
    'SHARE_UNUSABLE',
  ],
  ['a share path with a comma', () => run('--share', `${f('sh,are')}:/mnt`), 'PATH_UNSUPPORTED'],
  ['a missing kernel', () => run('--kernel', f('nope')), 'KERNEL_NOT_FOUND'],
  ['a directory as the kernel', () => run('--kernel', f('adir')), 'KERNEL_NOT_FOUND'],
  ['a program that is not UML as the kernel', () => run('--kernel', '/bin/ls'), 'KERNEL_NOT_UML'],
  [
    'no sandbox available',
    () => run(),
    'SANDBOX_UNAVAILABLE',
    { UMLKIT_BWRAP: '/nonexistent/bwrap', UMLKIT_LANDLOCK: '0' },
  ],
  ['a machine name UML would replace', () => ['create', 'x'.repeat(70)], 'INVALID_NAME'],
  ['a machine with --mem 1T', () => ['create', 'm1t', '--mem', '1T'], 'MEMORY_TOO_LARGE'],
  [
    'a machine with the same disk twice',
    () => ['create', 'mdup', '--disk', f('a.img'), '--disk', f('a-hard.img')],
    'DISK_DUPLICATE',
  ],
];
if (user) {
  cases.push(
    ['a disk the user cannot read', () => run('--disk', f('noperm.img')), 'DISK_UNREADABLE'],
    ['a read-only file attached writable', () => run('--disk', f('ro.img')), 'DISK_UNREADABLE'],
  );
}

describe(`${cases.length} bad inputs, as ${user ?? 'the current user'}`, () => {
  it.each(cases)('%s', async (_what, args, code, env) => {
    const t0 = performance.now();
    const r = await umlkit(box, args(), { timeoutMs: 20_000, ...(env ? { env } : {}) });
    const ms = performance.now() - t0;
    expect(r.stderr).toMatch(new RegExp(`^error\\[${code}`));
    expect(r.stderr).toMatch(/\nhint: /);
    expect([1, 2]).toContain(r.code);
    expectNoStack(r.stderr);
    expect(ms).toBeLessThan(5000);
  });

  it('a long-lived machine whose overlay is put over a different base is refused at start', async () => {
    expect((await umlkit(box, ['create', 'rebased'])).code).toBe(0);
    const spec = join(box.stateDir, 'machines', 'rebased', 'machine.json');
    const json = JSON.parse(readFileSync(spec, 'utf8'));
    json.imagePath = f('zeros.img');
    writeFileSync(spec, JSON.stringify(json));
    const t0 = performance.now();
    const r = await umlkit(box, ['start', 'rebased'], { timeoutMs: 20_000 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.stderr).toMatch(/^error\[START_FAILED\].*COW_MISMATCH/);
    await umlkit(box, ['rm', '-f', 'rebased']);
  });
});
