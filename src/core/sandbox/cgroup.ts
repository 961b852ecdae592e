// cgroup v2 as umlkit uses it, as values: where this process's cgroup is (from /proc/self/cgroup and
// /proc/self/mountinfo), the controllers a machine's limits need, and the limit files of one machine.
// The host side (src/host/sandbox/cgroup.ts) decides delegation and writes them.

/** The controllers umlkit reports on; machine groups limit pids and memory (there is no CPU-limit option). */
export const CGROUP_CONTROLLERS = ['pids', 'memory', 'cpu'] as const;
export type CgroupController = (typeof CGROUP_CONTROLLERS)[number];

/** memory.max above guest RAM: UML's own text and heap, page tables of its processes, page cache. */
export const CGROUP_MEMORY_MARGIN = 256 * 1024 * 1024;
/** pids.max above RLIMIT_NPROC: the launcher (bwrap and its reaper) and UML's I/O threads. */
export const CGROUP_PIDS_MARGIN = 16;

/** The cgroup v2 path of this process (`0::/path` in /proc/self/cgroup), or undefined (v1 only). */
export function ownCgroupPath(procSelfCgroup: string): string | undefined {
  const m = /^0::(\/.*)$/m.exec(procSelfCgroup);
  return m?.[1];
}

export interface Cgroup2Mount {
  /** The cgroup path mounted there (`/` unless the mount is of a sub-tree). */
  readonly root: string;
  readonly mountPoint: string;
}

/** Unescape mountinfo's octal escapes (`\040` for a space). */
const unoctal = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Every cgroup2 mount in /proc/self/mountinfo, in file order. */
export function cgroup2Mounts(mountinfo: string): Cgroup2Mount[] {
  const out: Cgroup2Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    if (post.split(' ')[0] !== 'cgroup2') continue;
    const f = pre.split(' ');
    if (f[3] && f[4]) out.push({ root: unoctal(f[3]), mountPoint: unoctal(f[4]) });
  }
  return out;
}

/** Controllers bound to cgroup v1 hierarchies (their super options in mountinfo): not usable in v2. */
export function cgroup1Controllers(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const post = line.split(' - ')[1]?.split(' ');
    if (post?.[0] !== 'cgroup' || !post[2]) continue;
    for (const opt of post[2].split(','))
      if (/^[a-z_]+$/.test(opt) && opt !== 'rw' && opt !== 'ro') out.push(opt);
  }
  return out;
}

/** The directory of cgroup `path` under a mount of cgroup `root`, or undefined if the mount does not hold it. */
export function cgroupDirectory(mount: Cgroup2Mount, path: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (path !== root && !path.startsWith(`${root}/`) && root !== '') return undefined;
  const rest = path.slice(root.length).replace(/^\/+/, '');
  const base = mount.mountPoint.replace(/\/+$/, '');
  return rest ? `${base}/${rest}` : base || '/';
}

/** The words of a cgroup.controllers or cgroup.subtree_control file (`+pids`, as a plain test tree holds what was written, reads as `pids`). */
export const controllerList = (text: string): string[] =>
  text
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/^\+/, ''));

export interface MachineCgroupLimits {
  readonly 'pids.max': string;
  readonly 'memory.max': string;
}

/** The limit files of one machine: pids above its RLIMIT_NPROC, memory = guest RAM + margin. */
export function machineCgroupLimits(input: {
  readonly memoryBytes: number;
  readonly nproc: number;
}): MachineCgroupLimits {
  return {
    'pids.max': String(input.nproc + CGROUP_PIDS_MARGIN),
    'memory.max': String(input.memoryBytes + CGROUP_MEMORY_MARGIN),
  };
}
