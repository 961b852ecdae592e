// Points an overlay at a base that moved: checks the new file's size and mtime against the header, then
// rewrites only the path bytes of the header, in place.
import { fsyncSync } from 'node:fs';
import { resolve } from 'node:path';
import { baseMismatchError, compareBase } from '../../core/cow/backing-check.ts';
import { backingPathPatch } from '../../core/cow/encode-header.ts';
import { quote, UmlError } from '../../core/errors.ts';
import { assertNoPendingMerge } from './commit.ts';
import { recordablePath } from './create.ts';
import { assertNotInUse } from './in-use.ts';
import { closeQuietly, looksLikeOverlay, openBase, openOverlay } from './open-overlay.ts';
import { writeAll } from './sparse-write.ts';

export interface RebaseResult {
  readonly overlayPath: string;
  readonly oldBasePath: string;
  readonly newBasePath: string;
}

export function rebaseOverlay(
  overlayPath: string,
  newBase: string,
  options: { stateDir?: string; cwd?: string } = {},
): RebaseResult {
  const cwd = options.cwd ?? process.cwd();
  const overlay = openOverlay(resolve(cwd, overlayPath), true);
  let baseFd: number | undefined;
  try {
    assertNoPendingMerge(overlay.path);
    // The kernel keeps the header it read at open; changing it under a running machine would be lost or worse.
    assertNotInUse(options.stateDir, overlay.path, 'overlay', 'rebase it');
    let recorded: string;
    try {
      recorded = recordablePath(newBase, cwd);
    } catch {
      throw new UmlError('COW_BASE_MISSING', `new base ${quote(newBase)} does not exist`, {
        hint: 'check the path',
      });
    }
    const base = openBase(recorded);
    baseFd = base.fd;
    if (looksLikeOverlay(base.fd)) {
      throw new UmlError('COW_INVALID', `new base ${quote(newBase)} is itself an overlay`, {
        hint: 'give the plain image the overlay was made over',
      });
    }
    const what = compareBase(overlay.header, base);
    if (what) {
      const err = baseMismatchError(overlay.path, overlay.header, base, what);
      throw new UmlError('COW_MISMATCH', err.message, {
        issues: err.issues,
        hint: what.sizeDiffers
          ? 'this is not a copy of the original base; rebase only onto a byte-identical copy'
          : `a copy made without \`cp -p\` gets a new mtime; if it is byte-identical to the original base, run \`touch -d @${overlay.header.mtime} ${recorded}\` and rebase again`,
      });
    }
    const patch = backingPathPatch(overlay.header, Buffer.from(recorded, 'utf8'));
    const bytes = Buffer.from(patch.bytes);
    // The path field starts within the first 40 bytes, so for any real path this one write stays inside the
    // first 4 KiB page and cannot tear across pages.
    writeAll(overlay.fd, bytes, 0, bytes.length, patch.offset, overlay.path);
    fsyncSync(overlay.fd);
    return { overlayPath: overlay.path, oldBasePath: overlay.header.backingPath, newBasePath: recorded };
  } finally {
    closeQuietly(baseFd);
    closeQuietly(overlay.fd);
  }
}
