// Per-machine cgroups (v2) where the host delegates one to this user: find this process's cgroup, pick
// a delegated directory that can hand the pids and memory controllers to children, keep machine groups
// under its `umlkit` sub-group (which never holds a process, so it may enable controllers for its
// children: cgroup v2's "no internal processes" rule), create one child per machine with its limits,
// and remove it when the machine's processes are gone. The jail helper joins the child before bwrap
// forks (native/jail: --cgroup=DIR), so every process of the machine is counted from the start.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  type CgroupController,
  cgroup1Controllers,
  cgroup2Mounts,
  cgroupDirectory,
  controllerList,
  type MachineCgroupLimits,
  ownCgroupPath,
} from '../../core/sandbox/cgroup.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The controllers a machine group needs; cpu is not limited (umlkit has no CPU-limit option). */
const REQUIRED: readonly CgroupController[] = ['pids', 'memory'];
export const CGROUP_GROUP = 'umlkit';
/** A machine group with no live process older than this is left over from a killed owner: removed. */
const STALE_MS = 10_000;

export interface CgroupSupport {
  readonly ok: boolean;
  /** Where and why: the group used, or the reason none can be. */
  readonly detail: string;
  /** The `umlkit` group machine groups are made in (when ok). */
  readonly group?: string;
  /** Each controller: `used …` or `unavailable: …` / `not limited: …`. */
  readonly controllers: Readonly<Record<CgroupController, string>>;
}

export const CPU_LINE = 'not limited (umlkit has no CPU-limit option; UML runs on one host CPU)';
/** The controller lines when the machine has no cgroup (the reason is said once, beside them). */
export const NO_CGROUP_CONTROLLERS: Readonly<Record<CgroupController, string>> = {
  pids: 'unavailable (RLIMIT_NPROC bounds the machine instead)',
  memory: 'unavailable (mem= and the RAM tmpfs cap bound guest RAM instead)',
  cpu: CPU_LINE,
};

function unavailable(detail: string): CgroupSupport {
  return { ok: false, detail, controllers: NO_CGROUP_CONTROLLERS };
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

const errText = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

/**
 * This process's own cgroup directory: `UMLKIT_CGROUP_ROOT` stands for it (tests: a cgroup2 mount or
 * a plain tree), else `0::/path` of /proc/self/cgroup under the cgroup2 mount that holds it.
 */
export function ownCgroupDir(env: Env): { dir: string; isRoot: boolean } | string {
  if (env.UMLKIT_CGROUP_ROOT) return { dir: env.UMLKIT_CGROUP_ROOT, isRoot: false };
  const path = ownCgroupPath(read('/proc/self/cgroup') ?? '');
  if (path === undefined) return 'no cgroup v2 hierarchy (cgroup v1 only)';
  for (const mount of cgroup2Mounts(read('/proc/self/mountinfo') ?? '')) {
    const dir = cgroupDirectory(mount, path);
    if (dir && existsSync(join(dir, 'cgroup.controllers'))) {
      return { dir, isRoot: path === '/' && mount.root === '/' };
    }
  }
  return `no cgroup2 mount holds this process's cgroup ${path}`;
}

/**
 * The first of `candidates` (own cgroup, then its parent) that is ours to write and can give pids and
 * memory to a child, with its `umlkit` group created and those controllers enabled for machine groups.
 */
export function delegatedGroup(candidates: readonly { dir: string; isRoot: boolean }[]): CgroupSupport {
  const reasons: string[] = [];
  for (const { dir, isRoot } of candidates) {
    const offered = controllerList(read(join(dir, 'cgroup.controllers')) ?? '');
    const missing = REQUIRED.filter((c) => !offered.includes(c));
    if (missing.length > 0) {
      reasons.push(`${dir} offers ${offered.join(' ') || 'no controllers'}; missing ${missing.join(', ')}`);
      continue;
    }
    const notOurs = [dir, join(dir, 'cgroup.procs'), join(dir, 'cgroup.subtree_control')].filter(
      (p) => !writable(p),
    );
    if (notOurs.length > 0) {
      reasons.push(
        `${dir} is not delegated to this user (${notOurs.map((p) => basename(p)).join(', ')} not writable)`,
      );
      continue;
    }
    const enabled = controllerList(read(join(dir, 'cgroup.subtree_control')) ?? '');
    const toEnable = REQUIRED.filter((c) => !enabled.includes(c));
    const procs = (read(join(dir, 'cgroup.procs')) ?? '').trim();
    if (toEnable.length > 0 && procs !== '' && !isRoot) {
      reasons.push(
        `${dir} holds processes, so it cannot enable ${toEnable.join(', ')} for a child (cgroup v2: no internal processes)`,
      );
      continue;
    }
    const group = join(dir, CGROUP_GROUP);
    try {
      if (toEnable.length > 0) {
        writeFileSync(join(dir, 'cgroup.subtree_control'), toEnable.map((c) => `+${c}`).join(' '));
      }
      mkdirSync(group, { recursive: true, mode: 0o755 });
      // The group holds no process of its own, so it may hand the controllers to machine groups.
      writeFileSync(join(group, 'cgroup.subtree_control'), REQUIRED.map((c) => `+${c}`).join(' '));
    } catch (e) {
      reasons.push(`${group}: cannot enable ${REQUIRED.join(', ')} (${errText(e)})`);
      continue;
    }
    sweepStale(group);
    return {
      ok: true,
      detail: `${group} (delegated; pids and memory enabled for machine groups)`,
      group,
      controllers: {
        pids: 'used (pids.max per machine)',
        memory: 'used (memory.max per machine)',
        cpu: CPU_LINE,
      },
    };
  }
  return unavailable(reasons.join('; '));
}

/** Probe, once per process: where machine groups go, or why there are none. */
export function probeCgroup(env: Env): CgroupSupport {
  const own = ownCgroupDir(env);
  if (typeof own === 'string') return unavailable(own);
  const candidates = [own];
  // A delegated leaf holds our own process, so the group usually goes beside it, in its parent.
  if (!own.isRoot) candidates.push({ dir: dirname(own.dir), isRoot: false });
  const found = delegatedGroup(candidates);
  if (found.ok || env.UMLKIT_CGROUP_ROOT) return found;
  const v1 = cgroup1Controllers(read('/proc/self/mountinfo') ?? '').filter((c) =>
    REQUIRED.includes(c as CgroupController),
  );
  return v1.length > 0
    ? unavailable(`${found.detail} (${v1.join(', ')} are bound to cgroup v1 hierarchies)`)
    : found;
}

/** The cgroup of one machine, its limit files written. @returns the directory, or the reason it failed. */
export function createMachineCgroup(
  group: string,
  name: string,
  limits: MachineCgroupLimits,
): { dir: string } | { error: string } {
  const dir = join(group, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${process.pid}`);
  try {
    mkdirSync(dir, { mode: 0o755 });
    for (const [file, value] of Object.entries(limits)) writeFileSync(join(dir, file), value);
    return { dir };
  } catch (e) {
    removeMachineCgroup(dir, 0);
    return { error: `${dir}: ${errText(e)}` };
  }
}

/** Whether any live process is in the group (cgroup.procs lists live tasks; a plain tree lists what was written). */
function populated(dir: string): boolean {
  const events = read(join(dir, 'cgroup.events'));
  if (events !== undefined && /^populated [01]$/m.test(events)) return /^populated 1$/m.test(events);
  return controllerList(read(join(dir, 'cgroup.procs')) ?? '').some((pid) => existsSync(`/proc/${pid}`));
}

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** rmdir the machine's group, retrying while its last processes exit (EBUSY) for up to `waitMs`. */
export function removeMachineCgroup(dir: string, waitMs = 1000): boolean {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code === 'ENOTEMPTY') {
        // Not a cgroup filesystem (a test's plain tree, UMLKIT_CGROUP_ROOT): remove the files we wrote.
        for (const f of ['pids.max', 'memory.max', 'cgroup.procs', 'cgroup.events']) {
          try {
            unlinkSync(join(dir, f));
          } catch {}
        }
        try {
          rmdirSync(dir);
          return true;
        } catch {
          return false;
        }
      }
      if (code !== 'EBUSY' || Date.now() >= until) return false;
      sleep(20);
    }
  }
}

/**
 * Remove the group as soon as it is empty again (cgroup.events changes when the last process exits),
 * and at the latest when this process exits. The watcher never keeps the process alive.
 */
export function removeWhenEmpty(dir: string): () => void {
  let done = false;
  const finish = (waitMs: number): void => {
    if (done) return;
    if (waitMs === 0 && populated(dir)) return;
    done = removeMachineCgroup(dir, waitMs);
    if (done) {
      watcher?.close();
      process.off('exit', onExit);
    }
  };
  const onExit = (): void => finish(500);
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(join(dir, 'cgroup.events'), () => finish(0));
    watcher.unref();
    watcher.on('error', () => {});
  } catch {}
  process.on('exit', onExit);
  return () => finish(1000);
}

/** Machine groups whose owner was killed before it could remove them: empty and not brand new. */
function sweepStale(group: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(group);
  } catch {
    return;
  }
  for (const n of names) {
    const dir = join(group, n);
    try {
      if (!statSync(dir).isDirectory() || Date.now() - statSync(dir).mtimeMs < STALE_MS) continue;
    } catch {
      continue;
    }
    if (!populated(dir)) removeMachineCgroup(dir, 0);
  }
}
