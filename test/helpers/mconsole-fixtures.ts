// Loads test/fixtures/mconsole (written by scripts/record-mconsole.mjs) for the golden-byte tests.
import { readFileSync } from 'node:fs';

const dir = new URL('../fixtures/mconsole/', import.meta.url);

export interface RecordedExchange {
  readonly request: Uint8Array;
  readonly replies: readonly Uint8Array[];
}

export interface RecordedCase {
  readonly name: string;
  /** uml_mconsole's argument words; absent for requests we crafted by hand (`raw`). */
  readonly words?: readonly string[];
  readonly raw?: boolean;
  readonly exchanges: readonly RecordedExchange[];
  /** What uml_mconsole printed, and its exit status. */
  readonly stdout?: string;
  readonly status?: number;
}

interface Manifest {
  kernel: string;
  cwd: string;
  cases: {
    name: string;
    words?: string[];
    raw?: boolean;
    exchanges: { request: string; replies: string[] }[];
    stdout?: string;
    status?: number;
  }[];
  notifications: { name: string; file: string }[];
}

const read = (file: string): Uint8Array => new Uint8Array(readFileSync(new URL(file, dir)));
const manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as Manifest;

/** The directory uml_mconsole ran in while recording (it absolutizes `config ubd` paths against it). */
export const recordedCwd = manifest.cwd;
export const recordedKernel = manifest.kernel;

export const recordedCases: readonly RecordedCase[] = manifest.cases.map((c) => ({
  ...c,
  exchanges: c.exchanges.map((x) => ({ request: read(x.request), replies: x.replies.map(read) })),
}));

export function recordedCase(name: string): RecordedCase {
  const c = recordedCases.find((x) => x.name === name);
  if (!c) throw new Error(`no recorded case ${name}`);
  return c;
}

export function recordedNotification(name: 'socket' | 'user' | 'panic'): Uint8Array {
  const n = manifest.notifications.find((x) => x.name === name);
  if (!n) throw new Error(`no recorded notification ${name}`);
  return read(n.file);
}
