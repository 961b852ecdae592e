import { describe, expect, it } from 'vitest';
import { fsizeLimit, landlockArgv, type SandboxPlan, sandboxArgv } from './sandbox-argv.ts';

const plan: SandboxPlan = {
  bwrap: '/usr/bin/bwrap',
  jail: '/opt/umlkit/dist/native/umlkit-jail',
  kernel: '/usr/bin/linux.uml',
  kernelArgv: ['umid=run-1', 'mem=128M'],
  env: { PATH: '/usr/bin', TMPDIR: '/umlkit-ram' },
  readOnly: ['/usr/bin/linux.uml', '/lib/x86_64-linux-gnu/libc.so.6', '/img/base.ext4', '/img/base.ext4'],
  readWrite: ['/run/u/run-1', '/home/u/data.ext4'],
  devices: ['/dev/null'],
  hostFiles: ['/proc/cpuinfo'],
  ramDir: '/umlkit-ram',
  ramBytes: 268435456,
  unshareNet: true,
  seccompFd: 4,
  limits: { core: 0, nofile: 256, nproc: 512, fsize: 2281701376 },
};

describe('sandboxArgv', () => {
  it('renders the golden bwrap + jail argv', () => {
    expect(sandboxArgv(plan)).toEqual([
      '/usr/bin/bwrap',
      '--unshare-user',
      '--unshare-ipc',
      '--unshare-pid',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--unshare-net',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--hostname',
      'umlkit',
      '--clearenv',
      '--setenv',
      'PATH',
      '/usr/bin',
      '--setenv',
      'TMPDIR',
      '/umlkit-ram',
      '--size',
      '268435456',
      '--perms',
      '0700',
      '--tmpfs',
      '/umlkit-ram',
      '--ro-bind',
      '/usr/bin/linux.uml',
      '/usr/bin/linux.uml',
      '--ro-bind',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '--ro-bind',
      '/img/base.ext4',
      '/img/base.ext4',
      '--ro-bind',
      '/proc/cpuinfo',
      '/proc/cpuinfo',
      '--bind',
      '/run/u/run-1',
      '/run/u/run-1',
      '--bind',
      '/home/u/data.ext4',
      '/home/u/data.ext4',
      '--dev-bind',
      '/dev/null',
      '/dev/null',
      '--seccomp',
      '4',
      '--',
      '/opt/umlkit/dist/native/umlkit-jail',
      '--core=0',
      '--nofile=256',
      '--nproc=512',
      '--fsize=2281701376',
      '--',
      '/usr/bin/linux.uml',
      'umid=run-1',
      'mem=128M',
    ]);
  });

  it('keeps the host network namespace only when asked (a host-side network helper)', () => {
    expect(sandboxArgv({ ...plan, unshareNet: false })).not.toContain('--unshare-net');
  });

  it('binds a path once, with its first (read-only) mode winning', () => {
    const argv = sandboxArgv({ ...plan, readWrite: ['/img/base.ext4'] });
    expect(argv.filter((a) => a === '/img/base.ext4')).toHaveLength(2);
    expect(argv[argv.indexOf('/img/base.ext4') - 1]).toBe('--ro-bind');
  });

  it('refuses relative and .. paths', () => {
    expect(() => sandboxArgv({ ...plan, readWrite: ['data.ext4'] })).toThrow(/not absolute/);
    expect(() => sandboxArgv({ ...plan, readOnly: ['/img/../etc/shadow'] })).toThrow(/not absolute/);
  });

  it('sizes RLIMIT_FSIZE above the RAM file (mem + exec-shield gap) and the largest disk', () => {
    expect(fsizeLimit(128 * 2 ** 20, 0)).toBe((128 + 2048) * 2 ** 20);
    expect(fsizeLimit(128 * 2 ** 20, 10 * 2 ** 30)).toBeGreaterThan(10 * 2 ** 30);
  });
});

describe('landlockArgv', () => {
  it('renders the golden jail argv of the fallback', () => {
    expect(
      landlockArgv({
        jail: '/opt/umlkit/dist/native/umlkit-jail',
        kernel: '/usr/bin/linux.uml',
        kernelArgv: ['umid=run-1'],
        readOnly: ['/usr/bin/linux.uml', '/img/base.ext4', '/img/base.ext4'],
        readWrite: ['/run/u/run-1', '/dev/null'],
        seccompFd: 4,
        limits: { core: 0, nofile: 256, nproc: 700, fsize: 2281701376 },
      }),
    ).toEqual([
      '/opt/umlkit/dist/native/umlkit-jail',
      '--core=0',
      '--nofile=256',
      '--nproc=700',
      '--fsize=2281701376',
      '--ro=/usr/bin/linux.uml',
      '--ro=/img/base.ext4',
      '--rw=/run/u/run-1',
      '--rw=/dev/null',
      '--seccomp-fd=4',
      '--',
      '/usr/bin/linux.uml',
      'umid=run-1',
    ]);
  });

  it('joins the machine cgroup first, before any other option (Landlock would hide the directory)', () => {
    const argv = landlockArgv({
      jail: '/j',
      kernel: '/k',
      kernelArgv: [],
      readOnly: ['/k'],
      readWrite: [],
      seccompFd: 4,
      limits: { core: 0, nofile: 1, nproc: 1, fsize: 1 },
      cgroup: '/sys/fs/cgroup/u/umlkit/run-1-9',
    });
    expect(argv.slice(0, 3)).toEqual(['/j', '--cgroup=/sys/fs/cgroup/u/umlkit/run-1-9', '--core=0']);
    expect(() =>
      landlockArgv({
        jail: '/j',
        kernel: '/k',
        kernelArgv: [],
        readOnly: [],
        readWrite: [],
        seccompFd: 4,
        limits: { core: 0, nofile: 1, nproc: 1, fsize: 1 },
        cgroup: 'rel/x',
      }),
    ).toThrow(/cgroup path 'rel\/x'|cgroup path/);
  });
});
