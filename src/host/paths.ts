// Where umlkit keeps things, resolved once from the environment (XDG rules) and passed down explicitly.
import { mkdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface HostPaths {
  /** Kernels, images and the initramfs: rebuildable, safe to delete. */
  readonly cacheDir: string;
  /** Machines, locks, logs: the database. */
  readonly stateDir: string;
  /** Short-lived sockets and UML's umid dirs; kept short because socket paths are limited to 107 bytes. */
  readonly runtimeDir: string;
  readonly configFile: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function resolvePaths(env: Env): HostPaths {
  const home = env.HOME && env.HOME !== '' ? env.HOME : homedir();
  const uid = userInfo().uid;
  const pick = (own: string | undefined, xdg: string | undefined, fallback: string): string =>
    own && own !== '' ? own : xdg && xdg !== '' ? join(xdg, 'umlkit') : fallback;
  return {
    cacheDir: pick(env.UMLKIT_CACHE_DIR, env.XDG_CACHE_HOME, join(home, '.cache', 'umlkit')),
    stateDir: pick(env.UMLKIT_STATE_DIR, env.XDG_STATE_HOME, join(home, '.local', 'state', 'umlkit')),
    runtimeDir: pick(env.UMLKIT_RUNTIME_DIR, env.XDG_RUNTIME_DIR, join('/tmp', `umlkit-${uid}`)),
    configFile: join(
      env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(home, '.config'),
      'umlkit',
      'config.json',
    ),
  };
}

/** Create a private directory (0700) and its parents. */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
