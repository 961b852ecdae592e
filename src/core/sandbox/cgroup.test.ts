import { describe, expect, it } from 'vitest';
import {
  CGROUP_MEMORY_MARGIN,
  CGROUP_PIDS_MARGIN,
  cgroup1Controllers,
  cgroup2Mounts,
  cgroupDirectory,
  controllerList,
  machineCgroupLimits,
  ownCgroupPath,
} from './cgroup.ts';

// This host's own /proc/self/mountinfo (v1 controllers, a cgroup2 with only hugetlb), plus a sub-tree
// mount with an escaped space as containers have.
const MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
90 23 0:38 /user.slice /mnt/my\\040cg rw,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate
`;

describe('cgroup v2 location', () => {
  it('reads the 0:: line of /proc/self/cgroup, or none on a v1-only host', () => {
    expect(ownCgroupPath('4:memory:/x\n0::/user.slice/app.scope\n')).toBe('/user.slice/app.scope');
    expect(ownCgroupPath('0::/\n')).toBe('/');
    expect(ownCgroupPath('4:memory:/x\n1:cpu:/\n')).toBeUndefined();
  });

  it('finds every cgroup2 mount with its root, unescaping paths', () => {
    expect(cgroup2Mounts(MOUNTINFO)).toEqual([
      { root: '/', mountPoint: '/sys/fs/cgroup/unified' },
      { root: '/user.slice', mountPoint: '/mnt/my cg' },
    ]);
  });

  it('maps a cgroup path to its directory under a mount, and refuses a mount that does not hold it', () => {
    const [full, sub] = cgroup2Mounts(MOUNTINFO) as [never, never];
    expect(cgroupDirectory(full, '/')).toBe('/sys/fs/cgroup/unified');
    expect(cgroupDirectory(full, '/a/b')).toBe('/sys/fs/cgroup/unified/a/b');
    expect(cgroupDirectory(sub, '/user.slice/u.scope')).toBe('/mnt/my cg/u.scope');
    expect(cgroupDirectory(sub, '/user.slice')).toBe('/mnt/my cg');
    expect(cgroupDirectory(sub, '/user.slicex/u')).toBeUndefined();
    expect(cgroupDirectory(sub, '/system.slice')).toBeUndefined();
  });

  it('names the controllers that v1 hierarchies hold (not the named systemd one)', () => {
    expect(cgroup1Controllers(MOUNTINFO)).toEqual(['cpu', 'memory', 'pids']);
  });

  it('reads controller lists as the kernel prints them and as a plain tree holds what was written', () => {
    expect(controllerList('cpu memory pids\n')).toEqual(['cpu', 'memory', 'pids']);
    expect(controllerList('+pids +memory')).toEqual(['pids', 'memory']);
    expect(controllerList('\n')).toEqual([]);
  });
});

describe('machine limits', () => {
  it('pids.max is RLIMIT_NPROC plus the launcher margin; memory.max is guest RAM plus 256 MiB', () => {
    expect(machineCgroupLimits({ memoryBytes: 128 * 1024 ** 2, nproc: 512 })).toEqual({
      'pids.max': String(512 + CGROUP_PIDS_MARGIN),
      'memory.max': String(128 * 1024 ** 2 + CGROUP_MEMORY_MARGIN),
    });
    expect(CGROUP_MEMORY_MARGIN).toBe(256 * 1024 ** 2);
    expect(machineCgroupLimits({ memoryBytes: 1, nproc: 1 })['pids.max']).toBe('17');
  });
});
