// Bad input and failures get a coded one-line error with a hint, the right exit code, no stack trace
// and nothing left behind.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandbox,
  expectNoStack,
  machineProcesses,
  type Sandbox,
  umlkit,
} from '../helpers/umlkit-cli.ts';

let box: Sandbox;
beforeAll(() => {
  box = createSandbox();
  writeFileSync(join(box.root, 'junk.img'), Buffer.alloc(1024 * 1024, 0x41));
  mkdirSync(join(box.root, 'adir'));
  execFileSync('mkfifo', [join(box.root, 'fifo')]);
});
afterEach(() => box.assertClean());
afterAll(() => box.dispose());

const cases: [string, string[], string, number, RegExp][] = [
  [
    'a missing kernel',
    ['run', '--kernel', '/nonexistent/linux', '--', 'true'],
    'KERNEL_NOT_FOUND',
    1,
    /`\/nonexistent\/linux`/,
  ],
  [
    'a binary that is not a UML kernel',
    ['run', '--kernel', '/bin/ls', '--', 'true'],
    'KERNEL_NOT_UML',
    1,
    /`\/bin\/ls` is not a User Mode Linux kernel/,
  ],
  ['a missing image', ['run', '--image', './nope.img', '--', 'true'], 'IMAGE_NOT_FOUND', 1, /nope\.img/],
  ['an unknown image name', ['run', '--image', 'alpine-9', '--', 'true'], 'IMAGE_NOT_FOUND', 1, /`alpine-9`/],
  ['a missing disk', ['run', '--disk', 'missing.ext4', '--', 'true'], 'DISK_NOT_FOUND', 1, /missing\.ext4/],
  [
    'a directory as a disk',
    ['run', '--disk', 'adir', '--', 'true'],
    'DISK_UNREADABLE',
    1,
    /not a regular file/,
  ],
  ['a FIFO as a disk', ['run', '--disk', 'fifo', '--', 'true'], 'DISK_UNREADABLE', 1, /not a regular file/],
  ['a bad size', ['run', '--mem', 'lots', '--', 'true'], 'INVALID_SIZE', 2, /`lots`/],
  ['bad --disk syntax', ['run', '--disk', 'x.img:rx', '--', 'true'], 'INVALID_DISK_SPEC', 2, /`x\.img:rx`/],
  [
    'a disk path UML cannot parse',
    ['run', '--disk', 'a,b.img', '--', 'true'],
    'PATH_UNSUPPORTED',
    1,
    /`.*a,b\.img`/,
  ],
  ['a bad --env', ['run', '-e', '1X=2', '--', 'true'], 'INVALID_ENV', 2, /`1X=2`/],
  ['no command', ['run'], 'USAGE', 2, /no command given/],
  ['an unknown option', ['run', '--memory', '1G', '--', 'true'], 'USAGE', 2, /`--memory`/],
  ['an unknown command', ['frobnicate'], 'USAGE', 2, /`frobnicate`/],
  ['a bad disk create size', ['disk', 'create', 'x.ext4', '--size', '12Q'], 'INVALID_SIZE', 2, /`12Q`/],
  ['a missing file inside a disk', ['disk', 'cat', 'junk.img:/x'], 'DISK_READ_FAILED', 1, /junk\.img/],
];

describe('refused before launch', () => {
  it.each(cases)('%s', async (_what, args, code, exit, message) => {
    const r = await umlkit(box, args, { timeoutMs: 20_000 });
    expect(r.code).toBe(exit);
    expect(r.stderr).toMatch(new RegExp(`^error\\[${code}\\]: `));
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nhint: /);
    expectNoStack(r.stderr);
  });

  it('renders errors as JSON with --json', async () => {
    const r = await umlkit(box, ['disk', 'ls', 'junk.img', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr).error.code).toBe('USAGE');
  });
});

describe('failures after launch', () => {
  it('an image the guest cannot mount', async () => {
    const r = await umlkit(box, ['run', '--image', './junk.img', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[IMAGE_UNREADABLE\]: the guest could not mount image `.*junk\.img`/);
    expectNoStack(r.stderr);
  });

  it('a guest panic shows the console tail and where the full log is', async () => {
    const r = await umlkit(box, ['run', '--', 'sh', '-c', 'echo c > /proc/sysrq-trigger; sleep 10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[GUEST_PANIC\]: the guest kernel panicked/);
    expect(r.stderr).toContain('--- last console lines ---');
    expect(r.stderr).toMatch(/full console log: .*\.console\.log/);
    expectNoStack(r.stderr);
  });

  it('a boot timeout stops the machine and says so', async () => {
    const r = await umlkit(box, ['run', '--', 'true'], { env: { UMLKIT_BOOT_TIMEOUT: '0.01' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[BOOT_TIMEOUT\]: the guest did not come up within 0\.01 s/);
    expect(r.stderr).toContain('full console log:');
  });

  it('--timeout stops a command that runs too long, with exit 124', async () => {
    const r = await umlkit(box, ['run', '--timeout', '1', '--', 'sleep', '60']);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/^error\[RUN_TIMEOUT\]/);
    // The console log kept in the state dir is named, and there.
    const log = /full console log: (\S+\/logs\/run-[0-9a-f]{8}\.console\.log)/.exec(r.stderr)?.[1];
    expect(log).toBeDefined();
    expect(existsSync(log as string)).toBe(true);
  });

  it('a second writer of a disk is refused, naming the first machine', async () => {
    expect((await umlkit(box, ['disk', 'create', 'shared.ext4', '--size', '16M'])).code).toBe(0);
    let firstStderr = '';
    const first = umlkit(box, ['run', '--disk', 'shared.ext4', '--', 'sh', '-c', 'echo up; sleep 30'], {
      onSpawn: (child) => child.stderr?.on('data', (d: Buffer) => (firstStderr += d.toString())),
    });
    // Wait until the first machine runs (its kernel is up).
    for (let i = 0; i < 100 && machineProcesses(box.runtimeDir).length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    const second = await umlkit(box, ['run', '--disk', 'shared.ext4', '--', 'true']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /^error\[DISK_IN_USE\]: disk `.*shared\.ext4` is in use by machine `run-[0-9a-f]{8}` \(pid \d+, writable\)/,
    );
    const reader = await umlkit(box, ['run', '--disk', 'shared.ext4:ro', '--', 'true']);
    expect(reader.stderr).toMatch(/DISK_IN_USE/);
    // Ctrl-C on the first: it stops, and the disk is free at once.
    const [pid] = await waitForCli();
    process.kill(pid as number, 'SIGINT');
    const r1 = await first;
    expect(r1.code).toBe(130);
    expect(firstStderr).toMatch(/error\[INTERRUPTED\]/);
    const log = /full console log: (\S+\.console\.log)/.exec(firstStderr)?.[1];
    expect(log).toBeDefined();
    expect(existsSync(log as string)).toBe(true);
    box.assertClean();
    expect((await umlkit(box, ['run', '--disk', 'shared.ext4', '--', 'true'])).code).toBe(0);
  });
});

describe('an interrupted image build', () => {
  // A fresh cache, and an mke2fs that writes the image and then hangs, so the signal lands mid-build
  // with the staging tree and the temporary image both present. It records its pid (exec keeps it).
  function slowBuild(tag: string): {
    cache: string;
    images: string;
    env: Record<string, string>;
    wrapperPid: () => number | undefined;
  } {
    const dir = join(box.root, `slow-${tag}`);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    const pidFile = join(dir, 'mke2fs.pid');
    writeFileSync(
      join(dir, 'bin', 'mke2fs'),
      `#!/bin/sh\n/usr/sbin/mke2fs "$@" || exit $?\necho $$ > ${pidFile}\nexec sleep 60\n`,
    );
    chmodSync(join(dir, 'bin', 'mke2fs'), 0o755);
    const cache = join(dir, 'cache');
    return {
      cache,
      images: join(cache, 'images'),
      env: { UMLKIT_CACHE_DIR: cache, PATH: `${join(dir, 'bin')}:${box.env.PATH}` },
      wrapperPid: () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined),
    };
  }
  const leftovers = (images: string): string[] =>
    existsSync(images) ? readdirSync(images).filter((n) => n.startsWith('.staging-') || /\.tmp/.test(n)) : [];
  const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

  async function interruptMidBuild(args: string[], tag: string, signal: NodeJS.Signals) {
    const b = slowBuild(tag);
    let cli: ChildProcess | undefined;
    const done = umlkit(box, args, { env: b.env, onSpawn: (c) => (cli = c) });
    for (let i = 0; i < 200 && b.wrapperPid() === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    const wrapper = b.wrapperPid() as number;
    expect(wrapper).toBeDefined();
    expect(leftovers(b.images)).toHaveLength(2);
    cli?.kill(signal);
    return { b, wrapper, r: await done };
  }

  it.each([
    ['image build', ['image', 'build', 'busybox']],
    ['the first-use build of run', ['run', '--', 'true']],
  ])('Ctrl-C during %s stops mke2fs and leaves nothing in the cache', async (_what, args) => {
    const { b, wrapper, r } = await interruptMidBuild(args, args[0] as string, 'SIGINT');
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/error\[INTERRUPTED\]: interrupted: the build of image `busybox` was stopped/);
    expectNoStack(r.stderr);
    expect(alive(wrapper)).toBe(false);
    expect(leftovers(b.images)).toEqual([]);
    expect((await umlkit(box, ['image', 'ls'], { env: b.env })).code).toBe(0);
    expect(readdirSync(b.images)).toEqual([]);
  });

  it('what a killed build left is swept by the next image ls', async () => {
    const { b, wrapper, r } = await interruptMidBuild(['image', 'build', 'busybox'], 'kill', 'SIGKILL');
    expect(r.signal).toBe('SIGKILL');
    process.kill(wrapper, 'SIGKILL');
    expect(leftovers(b.images)).toHaveLength(2);
    expect((await umlkit(box, ['image', 'ls'], { env: b.env })).code).toBe(0);
    expect(leftovers(b.images)).toEqual([]);
  });
});

/** PIDs of our CLI processes in this sandbox (node running bin/umlkit.js with this sandbox's env). */
async function waitForCli(): Promise<number[]> {
  const { readdirSync, readFileSync } = await import('node:fs');
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const env = readFileSync(`/proc/${name}/environ`, 'utf8');
      if (cmd.includes('umlkit.js') && env.includes(`UMLKIT_RUNTIME_DIR=${box.runtimeDir}`))
        pids.push(Number(name));
    } catch {}
  }
  return pids;
}
