// Writes a v3 header (what the kernel and uml_mkcow write), and patches the backing path of any version in place.
import { quote, UmlError } from '../errors.ts';
import {
  COW_MAGIC,
  type CowHeader,
  DEFAULT_ALIGNMENT,
  MAX_DISK_BYTES,
  SECTOR_BYTES,
  V1_PATH_BYTES,
  V2_PATH_BYTES,
  V3_HEADER_BYTES,
  V3_PATH_BYTES,
} from './format.ts';

export interface NewOverlay {
  readonly backingPathBytes: Uint8Array;
  readonly mtime: number;
  readonly sizeBytes: number;
  readonly alignment?: number;
}

const PATH_FIELD: Record<CowHeader['kind'], { offset: number; bytes: number }> = {
  v1: { offset: 8, bytes: V1_PATH_BYTES },
  v2: { offset: 8, bytes: V2_PATH_BYTES },
  v3: { offset: 32, bytes: V3_PATH_BYTES },
  'v3-broken': { offset: 36, bytes: V3_PATH_BYTES },
};

function checkPath(path: Uint8Array, fieldBytes: number): void {
  if (path.length === 0 || path.length >= fieldBytes || path.includes(0)) {
    throw new UmlError(
      'COW_INVALID',
      `backing path of ${path.length} bytes does not fit the header (1 to ${fieldBytes - 1} bytes, no NUL)`,
      { hint: 'move the base to a shorter path' },
    );
  }
}

/**
 * The 4128 header bytes of a v3 overlay, big-endian, the path zero-padded: byte for byte what uml_mkcow writes.
 * @throws {UmlError} COW_INVALID when the path does not fit or a number is out of range.
 */
export function encodeCowHeaderV3(o: NewOverlay): Uint8Array {
  checkPath(o.backingPathBytes, V3_PATH_BYTES);
  const alignment = o.alignment ?? DEFAULT_ALIGNMENT;
  if (!Number.isInteger(o.mtime) || o.mtime < 0 || o.mtime > 0xffffffff) {
    // The field is a u32: seconds up to 2106. Earlier or later bases cannot be recorded faithfully.
    throw new UmlError(
      'COW_INVALID',
      `base mtime ${quote(o.mtime)} does not fit the header's 32-bit seconds field`,
      {
        hint: 'set the base file to a time between 1970 and 2106, e.g. `touch BASE`',
      },
    );
  }
  if (!Number.isSafeInteger(o.sizeBytes) || o.sizeBytes < 0 || o.sizeBytes > MAX_DISK_BYTES) {
    throw new UmlError('COW_INVALID', `base size ${quote(o.sizeBytes)} is out of range`, {
      hint: `bases up to ${MAX_DISK_BYTES / 2 ** 40} TiB are supported`,
    });
  }
  const out = new Uint8Array(V3_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, COW_MAGIC, false);
  view.setUint32(4, 3, false);
  view.setUint32(8, o.mtime, false);
  view.setBigUint64(12, BigInt(o.sizeBytes), false);
  view.setUint32(20, SECTOR_BYTES, false);
  view.setUint32(24, alignment, false);
  view.setUint32(28, 0, false);
  out.set(o.backingPathBytes, 32);
  return out;
}

/**
 * The bytes to write at `offset` to point a header of any version at a new path, leaving every other field
 * as it is. Covers the old path and its NUL as well, so no stale tail survives; the rest of the field keeps
 * whatever it had (the kernel itself leaves garbage there, and readers stop at the first NUL).
 * @throws {UmlError} COW_INVALID when the path does not fit this version's field (256 bytes for v1).
 */
export function backingPathPatch(
  header: CowHeader,
  newPath: Uint8Array,
): { offset: number; bytes: Uint8Array } {
  const field = PATH_FIELD[header.kind];
  checkPath(newPath, field.bytes);
  const length = Math.max(newPath.length, header.backingPathBytes.length) + 1;
  const bytes = new Uint8Array(length);
  bytes.set(newPath, 0);
  return { offset: field.offset, bytes };
}
