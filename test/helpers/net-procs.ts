// Finds the processes networking tests must not leave behind: switches (`umlkit net run`) and passt uplinks.
import { readdirSync, readFileSync } from 'node:fs';

/** PIDs whose argv contains every one of `words` (in order, as separate arguments). */
export function processesWithArgs(...words: string[]): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf(words[0] as string);
      if (at >= 0 && words.every((w, i) => argv[at + i] === w)) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

/** Switch processes of networks under this state dir (their environ names it). */
export function switchProcesses(stateDir: string): number[] {
  return processesWithArgs('net', 'run').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`UMLKIT_STATE_DIR=${stateDir}`);
    } catch {
      return false;
    }
  });
}
