// The check to run before booting `ubd0=OVERLAY,BASE`: the overlay's header must name this very base, and the
// base must be unchanged since. The kernel alone boots a wrong base with only a warning (silent corruption).
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkBase } from '../../core/cow/backing-check.ts';
import { quote, UmlError } from '../../core/errors.ts';
import { assertNoPendingMerge } from './commit.ts';
import { closeQuietly, openBase, openOverlay, recordedBasePath } from './open-overlay.ts';

const sameFile = (a: string, b: string): boolean => {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
};

/**
 * @throws {UmlError} COW_MISMATCH when the overlay records another base or the base changed,
 *   COW_BASE_MISSING, COW_INVALID, COW_MERGE_INCOMPLETE.
 */
export function checkOverlayPair(overlayPath: string, basePath: string): void {
  const overlay = openOverlay(resolve(overlayPath));
  try {
    assertNoPendingMerge(overlay.path);
    const recorded = recordedBasePath(overlay);
    const given = resolve(basePath);
    if (recorded !== given && !sameFile(recorded, given)) {
      let hint = `use the base it records, or if ${quote(given)} is a byte-identical copy, \`umlkit cow rebase ${overlay.path} --base ${given}\``;
      try {
        realpathSync(recorded);
      } catch {
        hint = `the recorded base is gone; if ${quote(given)} is that file moved or copied with \`cp -p\`, run \`umlkit cow rebase ${overlay.path} --base ${given}\``;
      }
      throw new UmlError(
        'COW_MISMATCH',
        `overlay ${quote(overlay.path)} was made over ${quote(recorded)}, not ${quote(given)}; its sectors only make sense over the base it was made on`,
        { hint },
      );
    }
    const base = openBase(given);
    try {
      checkBase(overlay.path, overlay.header, base);
    } finally {
      closeQuietly(base.fd);
    }
  } finally {
    closeQuietly(overlay.fd);
  }
}
