// Turns what a user names on the command line into an mconsole socket path, one resolver per kind of name.
//
// Today a target is the socket itself or a umid directory (<uml_dir>/<umid>). Machine names will come as
// one more resolver in TARGET_RESOLVERS, tried before these.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';

export interface MconsoleTarget {
  readonly socketPath: string;
  /** The umid directory, when known: its `pid` file names UML's main process. */
  readonly umidDir?: string;
}

export interface TargetContext {
  readonly cwd: string;
}

/** Returns the target when it recognises the name, undefined to let the next resolver try. */
export type TargetResolver = (name: string, ctx: TargetContext) => MconsoleTarget | undefined;

const isSocket = (path: string): boolean => {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
};

/** A path to the mconsole socket itself. */
export const socketFileResolver: TargetResolver = (name, ctx) => {
  const path = resolve(ctx.cwd, name);
  if (!isSocket(path)) return undefined;
  const dir = dirname(path);
  return existsSync(join(dir, 'pid')) ? { socketPath: path, umidDir: dir } : { socketPath: path };
};

/** A umid directory, <uml_dir>/<umid>, holding `mconsole` and `pid`. */
export const umidDirResolver: TargetResolver = (name, ctx) => {
  const dir = resolve(ctx.cwd, name);
  const socket = join(dir, 'mconsole');
  return isSocket(socket) ? { socketPath: socket, umidDir: dir } : undefined;
};

export const TARGET_RESOLVERS: readonly TargetResolver[] = [socketFileResolver, umidDirResolver];

/**
 * Resolve a target name with the first resolver that knows it.
 * @throws {UmlError} MCONSOLE_UNREACHABLE when none does.
 */
export function resolveMconsoleTarget(
  name: string,
  ctx: TargetContext,
  resolvers: readonly TargetResolver[] = TARGET_RESOLVERS,
): MconsoleTarget {
  for (const r of resolvers) {
    const target = r(name, ctx);
    if (target) return target;
  }
  throw new UmlError(
    'MCONSOLE_UNREACHABLE',
    `${quote(name)} is neither an mconsole socket nor a umid directory holding one`,
    {
      hint: 'pass <uml_dir>/<umid>/mconsole or <uml_dir>/<umid>; the socket exists only while the machine runs',
    },
  );
}
