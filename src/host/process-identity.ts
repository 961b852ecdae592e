// A PID is only trusted together with its start time (field 22 of /proc/PID/stat): PIDs get reused.
import { readFileSync } from 'node:fs';

/** Start time of a live process in clock ticks since boot, or undefined if it is gone (or a zombie). */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: number;
}

export function currentProcessIdentity(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 };
}

export const isAlive = (id: ProcessIdentity): boolean => processStartTime(id.pid) === id.startTime;
