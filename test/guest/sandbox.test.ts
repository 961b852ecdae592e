// The host side is the security boundary: as an unprivileged user, guest root probes every known way out
// (hostfs with `..`, absolute paths and symlinks, modules, mconsole) and reads no canary; from outside,
// every kernel process shows seccomp, no_new_privs, no capabilities, its own namespaces, the limits and a
// root holding only the machine's files; a fork bomb stops at the process limit.
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fsizeLimit } from '../../src/core/sandbox-argv.ts';
import { CONSOLE_LOG_CAP } from '../../src/host/kernel-process.ts';
import { DEFAULT_NOFILE_LIMIT, DEFAULT_PIDS_LIMIT } from '../../src/host/sandbox/launcher.ts';
import { sharedLibraries } from '../../src/host/sandbox/libraries.ts';
import { fakeDelegatedCgroup, machineViews, mountPoints, visiblePaths } from '../helpers/sandbox-probe.ts';
import {
  createSandbox,
  ensureTestUser,
  machineProcesses,
  REPO,
  type Sandbox,
  umlkit,
} from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;
let canary: string;
let share: string;

beforeAll(() => {
  box = createSandbox(user ? { user } : {});
  canary = `CANARY-${process.pid}-${Date.now()}`;
  share = join(box.root, 'share');
  mkdirSync(share);
  // Readable by the machine's uid: only the sandbox, not file permissions, may keep the guest out.
  writeFileSync(join(box.root, 'canary.txt'), `${canary}\n`, { mode: 0o644 });
  writeFileSync(join(box.stateDir, 'canary.txt'), `${canary}\n`, { mode: 0o644 });
  writeFileSync(join(share, 'inside.txt'), 'inside\n');
  symlinkSync(box.root, join(share, 'hostlink'));
  symlinkSync('/', join(share, 'rootlink'));
  if (user) {
    const uid = Number(execFileSync('id', ['-u', user]).toString());
    const gid = Number(execFileSync('id', ['-g', user]).toString());
    for (const p of ['canary.txt', 'share', 'share/inside.txt']) chownSync(join(box.root, p), uid, gid);
    chownSync(join(box.stateDir, 'canary.txt'), uid, gid);
  }
});
afterEach(() => box.assertClean());
afterAll(() => box.dispose());

/** Each probe prints `<name>:ESCAPED` if it read the canary, so one grep counts the successes. */
const PROBES = (root: string, shareDir: string): string => `
mkdir -p /mnt/h
probe() { name=$1; opt=$2; file=$3
  if mount -t hostfs none /mnt/h -o "$opt" 2>/dev/null; then
    grep -qs CANARY "/mnt/h/$file" && echo "$name:ESCAPED" || echo "$name:blocked"
    umount /mnt/h
  else echo "$name:blocked"; fi; }
probe dotdot ${shareDir}/.. canary.txt
probe dotdot2 ${shareDir}/../state canary.txt
probe absolute ${root} canary.txt
probe rootslash /../../..${root} canary.txt
probe hostroot / ${root.slice(1)}/canary.txt
probe hostlink ${shareDir}/hostlink canary.txt
probe rootlink ${shareDir}/rootlink ${root.slice(1)}/canary.txt
ln -s ${root} /mnt/share/guestlink 2>/dev/null
probe guestlink ${shareDir}/guestlink canary.txt
grep -qs CANARY /mnt/share/hostlink/canary.txt && echo vfslink:ESCAPED || echo vfslink:blocked
grep -qs CANARY /mnt/share/rootlink${root}/canary.txt && echo vfsroot:ESCAPED || echo vfsroot:blocked
rm -f /mnt/share/guestlink
echo 0 > /proc/sys/kernel/modules_disabled 2>/dev/null && echo unlock:ESCAPED || echo unlock:blocked
head -c 4096 /dev/urandom > /tmp/evil.ko; insmod /tmp/evil.ko 2>/dev/null && echo insmod:ESCAPED || echo insmod:blocked
[ -e /proc/mconsole ] && echo mconsole:ESCAPED || echo mconsole:blocked
`;

describe(`as ${user ?? 'the current user'}, guest root`, () => {
  it('has no hostfs and no modules without a share: 0 of the probes succeed', async () => {
    const r = await umlkit(box, ['run', '--', 'sh', '-c', PROBES(box.root, share)]);
    const out = r.stdout.toString();
    expect(r.code).toBe(0);
    expect(out).not.toContain('ESCAPED');
    expect(out.match(/:blocked/g)).toHaveLength(13);
    const fs = await umlkit(box, [
      'run',
      '--',
      'sh',
      '-c',
      'grep -c hostfs /proc/filesystems; cat /proc/sys/kernel/modules_disabled',
    ]);
    expect(fs.stdout.toString()).toBe('0\n1\n');
  });

  it('with a share, reaches nothing outside what the sandbox shows: 0 of 13 probes succeed', async () => {
    const before = readdirSync(box.root).sort();
    const r = await umlkit(box, [
      'run',
      '--share',
      `${share}:/mnt/share`,
      '--',
      'sh',
      '-c',
      `cat /mnt/share/inside.txt; ${PROBES(box.root, share)}`,
    ]);
    const out = r.stdout.toString();
    expect(r.stderr).toBe('');
    expect(out).toContain('inside\n');
    expect(out).not.toContain('ESCAPED');
    expect(out.match(/:blocked/g)).toHaveLength(13);
    expect(readdirSync(box.root).sort()).toEqual(before);
  });

  it('cannot write a :ro share, though the directory is writable on the host', async () => {
    const r = await umlkit(box, [
      'run',
      '--share',
      `${share}:/mnt/share:ro`,
      '--',
      'sh',
      '-c',
      'echo x > /mnt/share/new || echo REFUSED; mount -o remount,rw /mnt/share; echo y > /mnt/share/new2 || echo REFUSED',
    ]);
    expect(r.stdout.toString()).toBe('REFUSED\nREFUSED\n');
    expect(readdirSync(share)).not.toContain('new');
    expect(readdirSync(share)).not.toContain('new2');
  });
});

describe('from outside', () => {
  /**
   * Every kernel process of machine `name`: Seccomp 2, NoNewPrivs 1, no capabilities, namespaces of its
   * own (all but `net` when it has a NIC), the limits exactly, and a filesystem that is the bind list:
   * the mount points are exactly the machine's files, and a walk of its root finds nothing else.
   */
  async function checkMachine(name: string, sharedNs: string[]): Promise<void> {
    // A few guest processes, so the ptraced per-address-space processes are checked too.
    await umlkit(box, ['exec', name, '--', 'sh', '-c', 'sleep 30 & sleep 30 & true']);
    const inspect = JSON.parse((await umlkit(box, ['inspect', name, '--json'])).stdout.toString());
    const m = inspect.machines[0];
    const { kernel, launcher } = machineViews(join(box.runtimeDir, 'm', name));
    expect(kernel.length).toBeGreaterThanOrEqual(5);
    const runDir = join(box.runtimeDir, 'm', name);
    const binds: string[] = [
      '/usr/bin/linux.uml',
      ...sharedLibraries('/usr/bin/linux.uml'),
      join(REPO, 'dist/native/fpfix.so'),
      ...sharedLibraries(join(REPO, 'dist/native/fpfix.so')),
      join(REPO, 'dist/native/umlkit-jail'),
      join(REPO, 'dist/native/initramfs.cpio'),
      m.image,
      m.overlay,
      runDir,
      '/proc/cpuinfo',
      '/dev/null',
      '/dev/random',
      '/dev/urandom',
    ];
    const mounts = [...new Set(['/', '/umlkit-ram', ...binds])].sort();
    const dirs = new Set(['/umlkit-ram', runDir]);
    const ancestors = new Set(
      mounts.flatMap((p) =>
        p
          .split('/')
          .slice(1, -1)
          .map((_, i, a) => `/${a.slice(0, i + 1).join('/')}`),
      ),
    );
    // RLIMIT_FSIZE as the launcher computes it from the files it binds (busybox image: mem + 2 GiB).
    const largest = Math.max(
      ...[m.image, m.overlay, join(REPO, 'dist/native/initramfs.cpio')].map((f: string) => statSync(f).size),
    );
    const fsize = fsizeLimit(m.memoryBytes, largest);
    for (const v of kernel) {
      expect({
        pid: v.pid,
        exe: v.exe,
        seccomp: v.seccomp,
        nnp: v.noNewPrivs,
        capEff: v.capEff,
        capBnd: v.capBnd,
        shared: v.sharedNamespaces,
        mounts: mountPoints(v.pid),
      }).toEqual({
        pid: v.pid,
        exe: '/usr/bin/linux.uml',
        seccomp: 2,
        nnp: 1,
        capEff: '0000000000000000',
        capBnd: '0000000000000000',
        shared: sharedNs,
        mounts,
      });
      const stray = visiblePaths(v.pid).filter(
        (p) => !mounts.includes(p) && !ancestors.has(p) && ![...dirs].some((d) => p.startsWith(`${d}/`)),
      );
      expect(stray).toEqual([]);
      expect(v.limits['Max core file size']).toBe('0');
      expect(v.limits['Max open files']).toBe(String(DEFAULT_NOFILE_LIMIT));
      expect(v.limits['Max processes']).toBe(String(DEFAULT_PIDS_LIMIT));
      expect(v.limits['Max file size']).toBe(String(fsize));
      if (user) expect(v.uid).not.toBe(0);
    }
    // The launcher (bwrap outside and its reaper inside): no capability, no_new_privs, no seccomp (it
    // must mount and unshare); the guest has no way to reach it.
    expect(launcher.length).toBe(2);
    for (const v of launcher) expect([v.capEff, v.noNewPrivs]).toEqual(['0000000000000000', 1]);
    expect(m.sandbox.enabled).toBe(true);
    expect(m.sandbox.limits.fsize).toBe(fsize);
    expect(m.sandbox.layers.namespaces).toBeDefined();
    // This host has no delegated cgroup v2 (docs/security.md): said so, controller by controller.
    expect(m.sandbox.layers.cgroup).toMatch(/^unavailable: /);
    expect(m.sandbox.layers['cgroup.pids']).toMatch(/^unavailable \(RLIMIT_NPROC/);
    expect(m.sandbox.layers['cgroup.memory']).toMatch(/^unavailable/);
    expect(m.sandbox.layers['cgroup.cpu']).toMatch(/^not limited/);
    expect(m.limits.pids).toBe(`rlimit nproc ${DEFAULT_PIDS_LIMIT}`);
  }

  it('every kernel process: Seccomp 2, NoNewPrivs 1, no capabilities, own namespaces, limits, root = bind list', async () => {
    const created = await umlkit(box, ['create', 'sbx', '--start']);
    expect(created.stderr).toBe('');
    try {
      await checkMachine('sbx', []);
    } finally {
      await umlkit(box, ['rm', '-f', 'sbx']);
    }
  });

  it('a machine with a NIC keeps only the host network namespace; everything else holds', async () => {
    expect((await umlkit(box, ['net', 'create', 'sbxnet'])).code).toBe(0);
    try {
      const created = await umlkit(box, ['create', 'sbxn', '--net', 'sbxnet', '--start']);
      expect(created.stderr).toBe('');
      await checkMachine('sbxn', ['net']);
    } finally {
      await umlkit(box, ['rm', '-f', 'sbxn']);
      await umlkit(box, ['net', 'rm', 'sbxnet']);
    }
  });

  it('with a delegated cgroup tree (UMLKIT_CGROUP_ROOT): the launcher is in the machine group from the start, which is gone after', async () => {
    const own = fakeDelegatedCgroup(join(box.root, 'cg'), user);
    const run = umlkit(box, ['run', '--mem', '96M', '--', 'sh', '-c', 'sleep 4'], {
      env: { UMLKIT_CGROUP_ROOT: own },
    });
    const group = join(own, 'umlkit');
    let seen: { dir: string; procs: string; launchers: number[] } | undefined;
    for (let i = 0; i < 150 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const names = existsSync(group) ? readdirSync(group).filter((n) => n.startsWith('run-')) : [];
      const { launcher } = machineViews(box.runtimeDir);
      if (names.length === 1 && launcher.length === 2) {
        const dir = join(group, names[0] as string);
        seen = {
          dir,
          procs: readFileSync(join(dir, 'cgroup.procs'), 'utf8'),
          launchers: launcher.map((v) => v.pid),
        };
      }
    }
    const r = await run;
    expect(r.code).toBe(0);
    expect(seen).toBeDefined();
    const s = seen as NonNullable<typeof seen>;
    // The jail wrote its pid and exec'd bwrap: the outer bwrap (the launcher the kernel runs under).
    const joined = Number(s.procs.trim());
    expect(s.launchers).toContain(joined);
    expect(readFileSync(join(s.dir, '..', 'cgroup.subtree_control'), 'utf8')).toBe('+pids +memory');
    expect(existsSync(s.dir)).toBe(false);
    expect(readdirSync(group)).toEqual(['cgroup.subtree_control']);
  });

  it('a guest fork bomb stops at the process limit and the host stays responsive', async () => {
    let peak = 0;
    let slowest = 0;
    const run = umlkit(box, ['run', '--timeout', '15', '--', 'sh', '-c', 'b(){ b | b & }; b; sleep 60']);
    const until = Date.now() + 14_000;
    while (Date.now() < until) {
      peak = Math.max(peak, machineProcesses(box.runtimeDir).length);
      const t = performance.now();
      execFileSync('true');
      slowest = Math.max(slowest, performance.now() - t);
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await run;
    expect(r.code).toBe(124);
    // The user namespace holds the kernel's processes plus bwrap's reaper; the outer bwrap is outside it.
    expect(peak).toBeGreaterThan(DEFAULT_PIDS_LIMIT / 2);
    expect(peak).toBeLessThanOrEqual(DEFAULT_PIDS_LIMIT + 1);
    expect(slowest).toBeLessThan(1000);
  });
});

describe('the Landlock fallback (bwrap unavailable)', () => {
  const env = { UMLKIT_BWRAP: '/nonexistent/bwrap' };

  it('with a share: 0 of 13 probes succeed; every kernel process has seccomp and no_new_privs', async () => {
    let views: ReturnType<typeof machineViews>['kernel'] = [];
    const run = umlkit(
      box,
      ['run', '--share', `${share}:/mnt/share`, '--', 'sh', '-c', `${PROBES(box.root, share)}\nsleep 2`],
      { env },
    );
    for (let i = 0; i < 100 && views.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      views = machineViews(box.runtimeDir).kernel;
    }
    const r = await run;
    const out = r.stdout.toString();
    expect(r.stderr).toBe('');
    expect(out).not.toContain('ESCAPED');
    expect(out.match(/:blocked/g)).toHaveLength(13);
    expect(views.length).toBeGreaterThanOrEqual(3);
    for (const v of views) {
      expect([v.seccomp, v.noNewPrivs, v.capEff]).toEqual([2, 1, '0000000000000000']);
      expect(v.limits['Max core file size']).toBe('0');
    }
  });
});

describe('console flood', () => {
  it('stops the console log at its cap while the guest prints without end', async () => {
    let biggest = 0;
    const run = umlkit(box, [
      'run',
      '--',
      'sh',
      '-c',
      'yes flood-flood-flood > /dev/console & sleep 15; kill $!',
    ]);
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      for (const d of existsSync(box.runtimeDir) ? readdirSync(box.runtimeDir) : []) {
        try {
          biggest = Math.max(biggest, statSync(join(box.runtimeDir, d, 'console.log')).size);
        } catch {}
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const r = await run;
    expect(r.code).toBe(0);
    // The flood rate depends on the host's load; the cap must hold whatever was reached.
    expect(biggest).toBeGreaterThan(1024 * 1024);
    expect(biggest).toBeLessThanOrEqual(CONSOLE_LOG_CAP + 100);
  });
});

describe('refusals', () => {
  it('refuses a share without the sandbox, and --no-sandbox runs unconfined when asked', async () => {
    const r = await umlkit(box, ['run', '--no-sandbox', '--share', `${share}:/mnt/share`, '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[INVALID_SHARE_SPEC\]: .*needs the sandbox/);
    const plain = await umlkit(box, [
      'run',
      '--no-sandbox',
      '--',
      'sh',
      '-c',
      'cat /proc/sys/kernel/modules_disabled',
    ]);
    expect(plain.stdout.toString()).toBe('1\n');
  });

  it('refuses to start with no sandbox at all (no bwrap, no Landlock), unless --no-sandbox', async () => {
    const env = { UMLKIT_BWRAP: '/nonexistent/bwrap', UMLKIT_LANDLOCK: '0' };
    const r = await umlkit(box, ['run', '--kernel', '/usr/bin/linux.uml', '--', 'true'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[SANDBOX_UNAVAILABLE\]: .*bwrap/);
    expect(r.stderr).toMatch(/--no-sandbox/);
  });
});
