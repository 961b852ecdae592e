// Starts writeback of a file while it is still being written, so the final fsync has little left to wait for:
// a copy then takes about max(CPU, disk) time instead of their sum.
import { fsync, fsyncSync } from 'node:fs';
import { nativeFileIo, type WritebackThread } from '../file-io.ts';

/** Flush in the background after every this many bytes written. */
const FLUSH_EVERY = 32 << 20;

export interface BackgroundFlush {
  /** Tell it how many bytes were just written, and where when known (start, length of the range). */
  wrote(bytes: number, range?: readonly [number, number]): void;
  /** Wait for a background flush in flight, then fsync what is left. Durable once it returns. */
  finish(): Promise<void>;
  /** Stop the writeback thread without flushing (the copy failed). finish() does this too. */
  abandon(): void;
}

export function backgroundFlush(fd: number): BackgroundFlush {
  let pending = 0;
  let inFlight: Promise<void> | undefined;
  // With the addon, each written range is handed to the device at once (sync_file_range, no waiting): the
  // disk then works during the whole copy rather than in 32 MiB bursts behind an fsync.
  // sync_file_range does the filesystem's writeback work (mapping pages, building requests) in the thread
  // that calls it, so it runs on the addon's own thread when one can be started: the copy and the writeback
  // then use two cores.
  const native = nativeFileIo();
  let thread: WritebackThread | undefined;
  try {
    thread = native?.writebackThread(fd);
  } catch {}
  return {
    wrote(bytes, range) {
      if (native && range) {
        try {
          if (thread) native.writebackQueue(thread, range[0], range[1]);
          else native.startWriteback(fd, range[0], range[1]);
        } catch {} // only a hint: finish()'s fsync reports any real failure
        return;
      }
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
      if (thread) native?.writebackStop(thread);
      thread = undefined;
      if (inFlight) await inFlight;
      fsyncSync(fd);
    },
    abandon() {
      if (thread) native?.writebackStop(thread);
      thread = undefined;
    },
  };
}
