// Per-machine cgroups: the delegation decision and the files written, against plain trees standing for
// a delegated cgroup v2 (UMLKIT_CGROUP_ROOT); the jail joining a group before it execs; removal once
// the group is empty, on this host's real cgroup2 mount (root only); and this host's honest answer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroup1Controllers, controllerList } from '../../src/core/sandbox/cgroup.ts';
import {
  createMachineCgroup,
  delegatedGroup,
  ownCgroupDir,
  probeCgroup,
  removeMachineCgroup,
  removeWhenEmpty,
} from '../../src/host/sandbox/cgroup.ts';

// The built tree: the jail helper lives in dist/native (`npm run build`), and the launcher finds it there.
const REPO = join(import.meta.dirname, '..', '..');
const JAIL_PATH = join(REPO, 'dist/native/umlkit-jail');
if (!existsSync(JAIL_PATH)) throw new Error(`${JAIL_PATH} is missing: run \`npm run build\``);
const { prepareSandboxedLaunch } = (await import(
  join(REPO, 'dist/host/sandbox/launcher.js')
)) as typeof import('../../src/host/sandbox/launcher.ts');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A plain tree shaped like a delegated cgroup v2 directory: controllers offered, none enabled. */
function fakeCgroup(offered = 'cpu memory pids', procs = ''): string {
  const d = mkdtempSync(join(tmpdir(), 'umlkit-cg-'));
  dirs.push(d);
  const own = join(d, 'own');
  mkdirSync(own);
  writeFileSync(join(own, 'cgroup.controllers'), `${offered}\n`);
  writeFileSync(join(own, 'cgroup.subtree_control'), '');
  writeFileSync(join(own, 'cgroup.procs'), procs);
  return own;
}

const until = async (cond: () => boolean, ms = 3000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

describe('delegation', () => {
  it('an empty delegated cgroup: enables pids and memory, makes the umlkit group, says used', () => {
    const own = fakeCgroup();
    const s = delegatedGroup([{ dir: own, isRoot: false }]);
    expect(s.ok).toBe(true);
    expect(s.group).toBe(join(own, 'umlkit'));
    expect(readFileSync(join(own, 'cgroup.subtree_control'), 'utf8')).toBe('+pids +memory');
    expect(readFileSync(join(own, 'umlkit', 'cgroup.subtree_control'), 'utf8')).toBe('+pids +memory');
    expect(s.controllers.pids).toMatch(/^used/);
    expect(s.controllers.memory).toMatch(/^used/);
    expect(s.controllers.cpu).toMatch(/^not limited/);
  });

  it('a leaf holding processes cannot enable controllers (no internal processes): the parent is used', () => {
    const own = fakeCgroup('cpu memory pids', '4242\n');
    const parent = join(own, '..');
    writeFileSync(join(parent, 'cgroup.controllers'), 'memory pids\n');
    writeFileSync(join(parent, 'cgroup.subtree_control'), 'memory pids\n');
    writeFileSync(join(parent, 'cgroup.procs'), '');
    const alone = delegatedGroup([{ dir: own, isRoot: false }]);
    expect(alone.ok).toBe(false);
    expect(alone.detail).toContain(`${own} holds processes, so it cannot enable pids, memory for a child`);
    expect(alone.controllers.pids).toMatch(/^unavailable/);
    expect(existsSync(join(own, 'umlkit'))).toBe(false);
    expect(readFileSync(join(own, 'cgroup.subtree_control'), 'utf8')).toBe('');
    const s = probeCgroup({ UMLKIT_CGROUP_ROOT: own });
    expect(s.ok).toBe(true);
    expect(s.group).toBe(join(parent, 'umlkit'));
    // Already enabled in the parent: left as it was.
    expect(readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8')).toBe('memory pids\n');
  });

  it('missing controllers are named, never reported as used', () => {
    const own = fakeCgroup('hugetlb');
    const s = delegatedGroup([{ dir: own, isRoot: false }]);
    expect(s).toMatchObject({ ok: false, detail: `${own} offers hugetlb; missing pids, memory` });
    expect(s.group).toBeUndefined();
    expect(existsSync(join(own, 'umlkit'))).toBe(false);
  });

  it('on this host: the truth about its cgroup2 mount', () => {
    const s = probeCgroup({});
    const own = ownCgroupDir({});
    if (typeof own === 'string') {
      expect(s.ok).toBe(false);
      expect(s.detail).toContain(own);
      return;
    }
    const offered = controllerList(readFileSync(join(own.dir, 'cgroup.controllers'), 'utf8'));
    if (!offered.includes('pids') || !offered.includes('memory')) {
      // This host: cgroup2 at /sys/fs/cgroup/unified offers only hugetlb; pids/memory are v1.
      expect(s.ok).toBe(false);
      expect(s.detail).toContain(`${own.dir} offers ${offered.join(' ') || 'no controllers'}; missing`);
      const v1 = cgroup1Controllers(readFileSync('/proc/self/mountinfo', 'utf8'));
      if (v1.includes('pids')) expect(s.detail).toContain('bound to cgroup v1 hierarchies');
      expect(s.controllers.pids).toMatch(/^unavailable/);
      expect(s.controllers.memory).toMatch(/^unavailable/);
    }
  });
});

describe('a machine group', () => {
  it('gets pids.max and memory.max, the jail joins it before exec, and it is removed once empty', async () => {
    const own = fakeCgroup();
    const s = delegatedGroup([{ dir: own, isRoot: false }]);
    const made = createMachineCgroup(s.group as string, 'run-ab12', {
      'pids.max': '528',
      'memory.max': '402653184',
    });
    if (!('dir' in made)) throw new Error(made.error);
    expect(made.dir).toBe(join(own, 'umlkit', `run-ab12-${process.pid}`));
    expect(readFileSync(join(made.dir, 'pids.max'), 'utf8')).toBe('528');
    expect(readFileSync(join(made.dir, 'memory.max'), 'utf8')).toBe('402653184');
    // The jail writes its own pid, then execs: the program runs as that pid.
    const r = spawnSync(JAIL_PATH, [`--cgroup=${made.dir}`, '--', '/bin/sh', '-c', 'echo $$'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(readFileSync(join(made.dir, 'cgroup.procs'), 'utf8')).toBe(r.stdout);
    writeFileSync(join(made.dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    removeWhenEmpty(made.dir);
    await new Promise((res) => setTimeout(res, 100));
    expect(existsSync(made.dir)).toBe(true);
    // The kernel flips populated when the last process leaves; the watcher then removes the group.
    writeFileSync(join(made.dir, 'cgroup.events'), 'populated 0\nfrozen 0\n');
    expect(await until(() => !existsSync(made.dir))).toBe(true);
  });

  it('a jail that cannot join refuses to run the program', () => {
    const r = spawnSync(JAIL_PATH, ['--cgroup=/nonexistent/cg', '--', '/bin/true'], { encoding: 'utf8' });
    expect(r.status).toBe(126);
    expect(r.stderr).toContain('join cgroup /nonexistent/cg');
  });

  it('the launch: the outer jail joins the group, inspect lines say used with the limits', () => {
    const own = fakeCgroup();
    const runDir = mkdtempSync(join(tmpdir(), 'umlkit-cg-run-'));
    dirs.push(runDir);
    const launch = prepareSandboxedLaunch({
      kernelPath: '/usr/bin/true',
      kernelArgv: [],
      kernelEnv: {},
      runDir,
      readOnly: [],
      readWrite: [],
      memoryBytes: 128 * 1024 ** 2,
      env: { ...process.env, UMLKIT_CGROUP_ROOT: own, UMLKIT_SECCOMP: 'log' },
    });
    try {
      const group = join(own, 'umlkit');
      const dir = launch.report.layers.cgroup?.replace(/^used: /, '') as string;
      expect(dir.startsWith(`${group}/`)).toBe(true);
      expect(launch.launcher?.args[0]).toBe(`--cgroup=${dir}`);
      expect(readFileSync(join(dir, 'pids.max'), 'utf8')).toBe('528');
      expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe(String((128 + 256) * 1024 ** 2));
      expect(launch.report.layers['cgroup.pids']).toBe('used (pids.max 528)');
      expect(launch.report.layers['cgroup.memory']).toBe('used (memory.max 402653184: guest RAM + 256 MiB)');
      expect(launch.report.layers['cgroup.cpu']).toMatch(/^not limited/);
      expect(removeMachineCgroup(dir)).toBe(true);
      expect(existsSync(dir)).toBe(false);
    } finally {
      launch.release();
    }
  });
});

// This host's cgroup2 mount has no pids/memory, but joining and removal are the kernel's own there.
const unified = ownCgroupDir({});
const realDir = typeof unified === 'string' ? undefined : unified.dir;
const canWrite = realDir !== undefined && process.getuid?.() === 0;

describe.skipIf(!canWrite)('on the real cgroup2 mount (root)', () => {
  it('the jail lands in the group, and the group is removed when its last process exits', async () => {
    const dir = join(realDir as string, `umlkit-test-${process.pid}`);
    mkdirSync(dir);
    try {
      const r = spawnSync(
        JAIL_PATH,
        [
          `--cgroup=${dir}`,
          '--',
          '/bin/sh',
          '-c',
          'grep ^0:: /proc/self/cgroup; cat "$0"',
          join(dir, 'cgroup.events'),
        ],
        { encoding: 'utf8' },
      );
      expect(r.status).toBe(0);
      const rel = dir.slice((realDir as string).length);
      expect(r.stdout).toContain(`0::${rel}\n`);
      expect(r.stdout).toContain('populated 1');
      expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toContain('populated 0');
      // No pids controller here: a machine group cannot get its limits, and leaves nothing behind.
      const failed = createMachineCgroup(dir, 'm', { 'pids.max': '528', 'memory.max': '1' });
      expect('error' in failed).toBe(true);
      expect(existsSync(join(dir, `m-${process.pid}`))).toBe(false);
      // A live process in it: the watcher removes it only once the kernel says it is empty.
      const child = spawnSync(
        JAIL_PATH,
        [`--cgroup=${dir}`, '--', '/bin/sh', '-c', 'sleep 1 </dev/null >/dev/null 2>&1 & echo $!'],
        {
          encoding: 'utf8',
        },
      );
      expect(child.status).toBe(0);
      removeWhenEmpty(dir);
      expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).toBe(child.stdout);
      await new Promise((res) => setTimeout(res, 300));
      expect(existsSync(dir)).toBe(true);
      expect(await until(() => !existsSync(dir), 5000)).toBe(true);
    } finally {
      removeMachineCgroup(dir, 2000);
    }
  });
});
