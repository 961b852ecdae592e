// Reads the confinement of a machine's host processes from outside, as Firecracker's jailer tests do:
// /proc/<pid>/status, ns links, limits and the root directory each process sees.
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { machineProcesses } from './umlkit-cli.ts';

export interface ProcessView {
  readonly pid: number;
  readonly exe: string;
  readonly uid: number;
  readonly seccomp: number;
  readonly noNewPrivs: number;
  readonly capEff: string;
  readonly capBnd: string;
  /** Namespace links that equal the test runner's own (should be none for the kernel's processes). */
  readonly sharedNamespaces: string[];
  readonly limits: Record<string, string>;
  readonly root: string[];
}

const NAMESPACES = ['user', 'mnt', 'pid', 'net', 'ipc', 'uts'];

export function viewProcess(pid: number): ProcessView | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    const limits: Record<string, string> = {};
    for (const line of readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').slice(1)) {
      const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
      if (m) limits[m[1] as string] = m[2] as string;
    }
    return {
      pid,
      exe: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '',
      uid: Number(field('Uid').split(/\s+/)[0]),
      seccomp: Number(field('Seccomp')),
      noNewPrivs: Number(field('NoNewPrivs')),
      capEff: field('CapEff'),
      capBnd: field('CapBnd'),
      sharedNamespaces: NAMESPACES.filter(
        (ns) => readlinkSync(`/proc/${pid}/ns/${ns}`) === readlinkSync(`/proc/self/ns/${ns}`),
      ),
      limits,
      root: readdirSync(`/proc/${pid}/root`).sort(),
    };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Every live process of the machines under `runtimeDir`, split into kernel and launcher (bwrap). */
export function machineViews(runtimeDir: string): { kernel: ProcessView[]; launcher: ProcessView[] } {
  const views = machineProcesses(runtimeDir)
    .map(viewProcess)
    .filter((v): v is ProcessView => v !== undefined);
  return {
    kernel: views.filter((v) => !v.exe.endsWith('/bwrap')),
    launcher: views.filter((v) => v.exe.endsWith('/bwrap')),
  };
}

/** Mount points a process sees (its /proc/PID/mountinfo, in its own mount namespace). */
export function mountPoints(pid: number): string[] {
  const unoctal = (s: string): string =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => unoctal(line.split(' ')[4] as string))
    .sort();
}

/** Every path visible under /proc/PID/root (bounded walk; entries vanishing meanwhile are skipped). */
export function visiblePaths(pid: number, limit = 5000): string[] {
  const root = `/proc/${pid}/root`;
  const out: string[] = [];
  const queue = ['/'];
  while (queue.length > 0 && out.length < limit) {
    const dir = queue.shift() as string;
    let names: string[] = [];
    try {
      names = readdirSync(root + dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = dir === '/' ? `/${n}` : `${dir}/${n}`;
      out.push(p);
      try {
        if (lstatSync(root + p).isDirectory()) queue.push(p);
      } catch {}
    }
  }
  return out.sort();
}

/**
 * A directory that looks like a cgroup v2 group delegated to `user` (or to the runner): it offers cpu,
 * memory and pids and holds no process. For UMLKIT_CGROUP_ROOT, where this host delegates no real one.
 */
export function fakeDelegatedCgroup(dir: string, user: string | undefined): string {
  mkdirSync(dir);
  writeFileSync(join(dir, 'cgroup.controllers'), 'cpu memory pids\n');
  writeFileSync(join(dir, 'cgroup.subtree_control'), '');
  writeFileSync(join(dir, 'cgroup.procs'), '');
  if (user) {
    const uid = Number(execFileSync('id', ['-u', user]).toString());
    const gid = Number(execFileSync('id', ['-g', user]).toString());
    for (const p of ['', 'cgroup.controllers', 'cgroup.subtree_control', 'cgroup.procs']) {
      chownSync(join(dir, p), uid, gid);
    }
  }
  return dir;
}
