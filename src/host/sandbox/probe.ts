// Which sandbox layers this host offers, probed once per process: bubblewrap with user namespaces (the
// default), seccomp (bwrap loads our program), and a delegated cgroup v2 (src/host/sandbox/cgroup.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NATIVE_DIR } from '../kernel-env.ts';
import { findOnPath } from '../tool.ts';
import { type CgroupSupport, probeCgroup } from './cgroup.ts';
import { bootId, fileIdentity, probeMemoFile, recall, remember } from './probe-memo.ts';

export const JAIL_PATH = join(NATIVE_DIR, 'umlkit-jail');

export interface LayerStatus {
  readonly ok: boolean;
  readonly detail: string;
}

export interface SandboxSupport {
  readonly bwrap: string | undefined;
  /** bwrap could build user, mount, pid, ipc, uts and net namespaces here. */
  readonly namespaces: LayerStatus;
  readonly cgroup: CgroupSupport;
}

const cache = new Map<string, SandboxSupport>();
type Env = Readonly<Record<string, string | undefined>>;

/** `UMLKIT_BWRAP` names another bwrap (or a missing one, to see the refusal); else bwrap on PATH. */
export function probeSandbox(env: Env): SandboxSupport {
  const bwrap = env.UMLKIT_BWRAP ?? findOnPath('bwrap', env.PATH);
  const key = `${bwrap ?? ''}\0${env.UMLKIT_CGROUP_ROOT ?? ''}`;
  const known = cache.get(key);
  if (known) return known;
  const found = bwrap && existsSync(bwrap) ? bwrap : undefined;
  const support = { bwrap: found, namespaces: rememberedNamespaces(found, env), cgroup: probeCgroup(env) };
  cache.set(key, support);
  return support;
}

const isLayer = (v: unknown): v is LayerStatus =>
  typeof v === 'object' &&
  v !== null &&
  (v as LayerStatus).ok === true &&
  typeof (v as LayerStatus).detail === 'string';

/** A success is remembered for this bwrap and jail until the host reboots (probe-memo.ts). */
function rememberedNamespaces(bwrap: string | undefined, env: Env): LayerStatus {
  const ids = bwrap ? [fileIdentity(bwrap), fileIdentity(JAIL_PATH)] : [];
  if (!bwrap || ids.includes(undefined)) return probeNamespaces(bwrap);
  const file = probeMemoFile(env);
  const key = `namespaces\0${bwrap}\0${ids.join('\0')}\0${bootId()}\0${process.getuid?.() ?? ''}`;
  const known = recall(file, key, isLayer);
  if (known) return known;
  const probed = probeNamespaces(bwrap);
  if (probed.ok) remember(file, key, probed);
  return probed;
}

function probeNamespaces(bwrap: string | undefined): LayerStatus {
  if (!bwrap) return { ok: false, detail: 'bubblewrap (bwrap) is not installed' };
  if (!existsSync(JAIL_PATH)) return { ok: false, detail: `${JAIL_PATH} is not built` };
  const r = spawnSync(
    bwrap,
    [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-net',
      '--die-with-parent',
      '--ro-bind',
      JAIL_PATH,
      JAIL_PATH,
      JAIL_PATH,
      '--probe',
    ],
    { encoding: 'utf8', timeout: 5000, env: { PATH: '/usr/bin:/bin' } },
  );
  if (r.status === 0 && r.stdout.includes('umlkit-jail ok')) {
    return { ok: true, detail: `${bwrap}: user, mount, pid, ipc, uts and net namespaces` };
  }
  const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0];
  return { ok: false, detail: `bwrap cannot create namespaces here: ${why}` };
}
