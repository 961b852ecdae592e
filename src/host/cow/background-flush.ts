// Starts writeback of a file while it is still being written, so the final fsync has little left to wait for:
// a copy then takes about max(CPU, disk) time instead of their sum.
import { fsync, fsyncSync } from 'node:fs';

/** Flush in the background after every this many bytes written. */
const FLUSH_EVERY = 32 << 20;

export interface BackgroundFlush {
  /** Tell it how many bytes were just written. */
  wrote(bytes: number): void;
  /** Wait for a background flush in flight, then fsync what is left. Durable once it returns. */
  finish(): Promise<void>;
}

export function backgroundFlush(fd: number): BackgroundFlush {
  let pending = 0;
  let inFlight: Promise<void> | undefined;
  return {
    wrote(bytes) {
      pending += bytes;
      if (pending < FLUSH_EVERY || inFlight) return;
      pending = 0;
      // fsync on the thread pool: the loop keeps copying while the disk takes what was written so far.
      // Its errors surface in finish(), whose own fsync reports the same failure.
      inFlight = new Promise<void>((resolve) => fsync(fd, () => resolve())).then(() => {
        inFlight = undefined;
      });
    },
    async finish() {
      if (inFlight) await inFlight;
      fsyncSync(fd);
    },
  };
}
