// Decides whether a base still is the file an overlay was made over (size + whole-second mtime, as the kernel
// checks), and explains a mismatch in words a user can act on.
import { quote, UmlError } from '../errors.ts';
import type { CowHeader } from './format.ts';

export interface BaseFacts {
  readonly path: string;
  readonly sizeBytes: number;
  /** st_mtime in whole seconds: the kernel compares no finer. */
  readonly mtime: number;
}

export interface BaseMismatch {
  readonly sizeDiffers: boolean;
  readonly mtimeDiffers: boolean;
}

export function compareBase(header: CowHeader, base: BaseFacts): BaseMismatch | undefined {
  const sizeDiffers = header.sizeBytes !== base.sizeBytes;
  const mtimeDiffers = header.mtime !== base.mtime;
  return sizeDiffers || mtimeDiffers ? { sizeDiffers, mtimeDiffers } : undefined;
}

const isoSeconds = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** The error for a base that is not the one the overlay was made over. */
export function baseMismatchError(
  overlay: string,
  header: CowHeader,
  base: BaseFacts,
  what: BaseMismatch,
): UmlError {
  const parts: string[] = [];
  if (what.sizeDiffers)
    parts.push(`its size is ${base.sizeBytes} bytes, the overlay recorded ${header.sizeBytes}`);
  if (what.mtimeDiffers) {
    parts.push(
      `it was modified at ${isoSeconds(base.mtime)}, the overlay recorded ${isoSeconds(header.mtime)}`,
    );
  }
  return new UmlError(
    'COW_MISMATCH',
    `base ${quote(base.path)} is not the file overlay ${quote(overlay)} was made over: ${parts.join('; ')}. The base changed after the overlay was made, so the overlay's sectors no longer fit it`,
    {
      hint: what.sizeDiffers
        ? 'use the original base (restore it from a copy, or point the overlay at one with `umlkit cow rebase OVERLAY --base PATH`); a base of another size can never match'
        : `if the base's bytes are unchanged (only its time changed, e.g. by \`touch\` or a copy without \`cp -p\`), set the time back with \`touch -d @${header.mtime} ${base.path}\`; otherwise restore the original base, or point the overlay at an unchanged copy with \`umlkit cow rebase OVERLAY --base PATH\``,
      issues: [
        ...(what.sizeDiffers
          ? [{ path: 'size', message: `${header.sizeBytes} recorded, ${base.sizeBytes} actual` }]
          : []),
        ...(what.mtimeDiffers
          ? [{ path: 'mtime', message: `${header.mtime} recorded, ${base.mtime} actual` }]
          : []),
      ],
    },
  );
}

/** @throws {UmlError} COW_MISMATCH unless `base` is what the header recorded. */
export function checkBase(overlay: string, header: CowHeader, base: BaseFacts): void {
  const what = compareBase(header, base);
  if (what) throw baseMismatchError(overlay, header, base, what);
}
