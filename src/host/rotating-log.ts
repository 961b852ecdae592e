// An append-only log with a size cap: at the cap the file becomes NAME.1 (replacing the older one) and a
// new file starts, so a console flood costs at most twice the cap on disk.
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';

export const DEFAULT_LOG_CAP = 1024 * 1024;

export class RotatingLog {
  private fd: number;
  private size: number;

  constructor(
    readonly path: string,
    readonly capBytes = DEFAULT_LOG_CAP,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.size = statSync(path).size;
  }

  write(data: Uint8Array): void {
    if (this.size + data.length > this.capBytes && this.size > 0) this.rotate();
    writeSync(this.fd, data);
    this.size += data.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = 0;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The last `maxBytes` of a rotating log (older file first). */
export function readLogTail(path: string, maxBytes: number): Buffer {
  const parts = [`${path}.1`, path].filter((p) => existsSync(p)).map((p) => readFileSync(p));
  const all = Buffer.concat(parts);
  return all.subarray(Math.max(0, all.length - maxBytes));
}
