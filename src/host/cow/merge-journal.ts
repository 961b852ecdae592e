// The marker a merge leaves beside its overlay while it writes the base, so an interrupted merge can be
// recognised, finished, and not mistaken for a base that changed behind the overlay's back.
import {
  closeSync,
  constants,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export interface MergeJournal {
  readonly version: 1;
  readonly overlay: string;
  readonly overlayDev: number;
  readonly overlayIno: number;
  readonly base: string;
  readonly baseDev: number;
  readonly baseIno: number;
  readonly baseSize: number;
  /** The overlay header's mtime, which the base had when the merge started. */
  readonly recordedMtime: number;
  readonly startedAt: string;
}

export const journalPath = (overlay: string): string => `${overlay}.merging`;

export function readJournal(overlay: string): MergeJournal | undefined {
  let text: string;
  try {
    text = readFileSync(journalPath(overlay), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const j = JSON.parse(text) as MergeJournal;
    return j.version === 1 ? j : undefined;
  } catch {
    // Written with tmp + rename, so a torn journal cannot happen; unreadable means someone edited it.
    return undefined;
  }
}

/** Write the journal durably before the first byte of the base changes. */
export function writeJournal(journal: MergeJournal): void {
  const final = journalPath(journal.overlay);
  const tmp = `${final}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(journal, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
  // The rename itself must be on disk before the base changes, or a crash could keep base writes and lose
  // the journal that explains them.
  const dir = openSync(dirname(final), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export function removeJournal(overlay: string): void {
  try {
    unlinkSync(journalPath(overlay));
  } catch {}
}
