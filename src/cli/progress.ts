// Progress for long work: a redrawn bar on a terminal, one plain line per step otherwise (logs, CI).
import type { Writable } from 'node:stream';

export interface Progress {
  /** fraction in [0, 1]; step is a short description of what happens now. */
  update(step: string, fraction?: number): void;
  done(message?: string): void;
}

const WIDTH = 24;

export function createProgress(
  stream: Writable & { isTTY?: boolean },
  title: string,
  quiet = false,
): Progress {
  if (quiet) return { update: () => {}, done: () => {} };
  let lastStep = '';
  let drawn = false;
  if (!stream.isTTY) {
    return {
      update(step) {
        if (step !== lastStep) stream.write(`${title}: ${step}\n`);
        lastStep = step;
      },
      done(message) {
        if (message) stream.write(`${title}: ${message}\n`);
      },
    };
  }
  return {
    update(step, fraction) {
      const f = Math.max(0, Math.min(1, fraction ?? 0));
      const filled = Math.round(f * WIDTH);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
      const text = `${title} ${bar} ${String(Math.round(f * 100)).padStart(3)}% ${step}`.slice(0, 120);
      stream.write(`\r\x1b[2K${text}`);
      drawn = true;
    },
    done(message) {
      if (drawn) stream.write('\r\x1b[2K');
      if (message) stream.write(`${title}: ${message}\n`);
    },
  };
}
