// Console logs of failed, interrupted or timed-out runs, kept in `<state>/logs/` for the error message to
// point at; only the newest few are kept, so repeated failures cannot fill the disk.
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HostPaths } from './paths.ts';

/** How many `run-*.console.log` files `<state>/logs/` keeps (docs/state-dir.md). */
export const KEPT_RUN_LOGS = 20;

export const runLogsDir = (paths: HostPaths): string => join(paths.stateDir, 'logs');

export const runLogPath = (paths: HostPaths, id: string): string =>
  join(runLogsDir(paths), `${id}.console.log`);

/** Copy a run's console log into the logs directory, then trim the directory to the newest `keep`. */
export function preserveRunLog(
  paths: HostPaths,
  id: string,
  consoleLog: string,
  keep = KEPT_RUN_LOGS,
): string {
  mkdirSync(runLogsDir(paths), { recursive: true, mode: 0o700 });
  const target = runLogPath(paths, id);
  copyFileSync(consoleLog, target);
  pruneRunLogs(runLogsDir(paths), keep);
  return target;
}

/** Remove all but the newest `keep` run console logs in `dir` (by mtime); other files are left alone. */
export function pruneRunLogs(dir: string, keep: number): void {
  const logs: { path: string; mtimeMs: number }[] = [];
  for (const name of readdirSync(dir)) {
    if (!/^run-[0-9a-f]+\.console\.log$/.test(name)) continue;
    try {
      logs.push({ path: join(dir, name), mtimeMs: statSync(join(dir, name)).mtimeMs });
    } catch {
      // Removed meanwhile by another run's prune.
    }
  }
  logs.sort((a, b) => b.mtimeMs - a.mtimeMs || b.path.localeCompare(a.path));
  for (const old of logs.slice(keep)) rmSync(old.path, { force: true });
}
