// Launches `umlkit supervise NAME` detached (own session, output to supervisor.log), so the machine
// outlives the process that started it.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineFiles } from '../host/machine-store.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'umlkit.js');

/** @returns the supervisor's pid (undefined if it could not be spawned at all). */
export function spawnSupervisor(
  name: string,
  files: MachineFiles,
  env: NodeJS.ProcessEnv,
): number | undefined {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const log = openSync(files.supervisorLog, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [BIN, 'supervise', name], {
      detached: true,
      stdio: ['ignore', log, log],
      env,
    });
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}
