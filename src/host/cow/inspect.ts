// Everything `cow info` reports about an overlay: its header, the base it names compared with the real file,
// how much it holds, and whether a merge of it was interrupted.
import { resolve } from 'node:path';
import { compareBase } from '../../core/cow/backing-check.ts';
import type { CowHeaderKind } from '../../core/cow/format.ts';
import { isUmlError } from '../../core/errors.ts';
import { findHolders } from './in-use.ts';
import { readJournal } from './merge-journal.ts';
import { closeQuietly, openBase, openOverlay, recordedBasePath } from './open-overlay.ts';

export interface OverlayInfo {
  readonly overlay: string;
  readonly version: number;
  readonly layout: CowHeaderKind;
  readonly byteOrder: 'big' | 'little';
  readonly base: {
    readonly path: string;
    readonly recordedSizeBytes: number;
    readonly recordedMtime: number;
    readonly actualSizeBytes: number | null;
    readonly actualMtime: number | null;
    /** 'ok' | 'missing' | 'size-mismatch' | 'mtime-mismatch' | 'size-and-mtime-mismatch' | 'unreadable' */
    readonly status: string;
  };
  readonly sectorSize: number;
  readonly alignment: number;
  readonly bitmapOffset: number;
  readonly dataOffset: number;
  readonly sectors: number;
  readonly dirtySectors: number;
  readonly dirtyBytes: number;
  readonly fileBytes: number;
  readonly allocatedBytes: number;
  readonly mergeInterrupted: boolean;
  readonly inUseBy: string[];
}

export function inspectOverlay(
  overlayPath: string,
  options: { stateDir?: string; cwd?: string } = {},
): OverlayInfo {
  const o = openOverlay(resolve(options.cwd ?? process.cwd(), overlayPath));
  try {
    const basePath = recordedBasePath(o);
    let actualSizeBytes: number | null = null;
    let actualMtime: number | null = null;
    let status = 'ok';
    try {
      const b = openBase(basePath);
      closeQuietly(b.fd);
      actualSizeBytes = b.sizeBytes;
      actualMtime = b.mtime;
      const m = compareBase(o.header, b);
      if (m)
        status =
          m.sizeDiffers && m.mtimeDiffers
            ? 'size-and-mtime-mismatch'
            : m.sizeDiffers
              ? 'size-mismatch'
              : 'mtime-mismatch';
    } catch (err) {
      status = isUmlError(err, 'COW_BASE_MISSING') ? 'missing' : 'unreadable';
    }
    return {
      overlay: o.path,
      version: o.header.version,
      layout: o.header.kind,
      byteOrder: o.header.magicOrder,
      base: {
        path: basePath,
        recordedSizeBytes: o.header.sizeBytes,
        recordedMtime: o.header.mtime,
        actualSizeBytes,
        actualMtime,
        status,
      },
      sectorSize: o.header.sectorSize,
      alignment: o.header.alignment,
      bitmapOffset: o.layout.bitmapOffset,
      dataOffset: o.layout.dataOffset,
      sectors: o.layout.sectors,
      dirtySectors: o.dirtySectors,
      dirtyBytes: o.dirtySectors * o.header.sectorSize,
      fileBytes: o.fileBytes,
      allocatedBytes: o.allocatedBytes,
      mergeInterrupted: readJournal(o.path) !== undefined,
      inUseBy: [...findHolders(options.stateDir, o.path), ...findHolders(options.stateDir, basePath)].map(
        (h) => h.description,
      ),
    };
  } finally {
    closeQuietly(o.fd);
  }
}
