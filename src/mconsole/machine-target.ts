// Resolves a machine name (`umlkit mconsole web1 version`) to that machine's mconsole socket.
import { existsSync } from 'node:fs';
import { machineFiles } from '../host/machine-store.ts';
import type { HostPaths } from '../host/paths.ts';
import type { TargetResolver } from './target.ts';

/** A resolver for machines of this user; names that are not machines fall through to the next resolver. */
export function machineNameResolver(paths: HostPaths): TargetResolver {
  return (name) => {
    if (name.includes('/')) return undefined;
    const files = machineFiles(paths, name);
    if (!existsSync(files.spec) || !existsSync(files.mconsole)) return undefined;
    return { socketPath: files.mconsole, umidDir: files.umidDir };
  };
}
