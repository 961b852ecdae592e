// Reads a COW header of any version the kernel reads (v1, v2, v3, broken v3) from its first bytes, or says why not.
import { quote, UmlError } from '../errors.ts';
import {
  COW_MAGIC,
  type CowHeader,
  type CowHeaderKind,
  MAX_ALIGNMENT,
  MAX_DISK_BYTES,
  SECTOR_BYTES,
  V1_HEADER_BYTES,
  V1_PATH_BYTES,
  V2_HEADER_BYTES,
  V2_PATH_BYTES,
  V3_BROKEN_HEADER_BYTES,
  V3_HEADER_BYTES,
  V3_PATH_BYTES,
} from './format.ts';
import { decodePath, findNul } from './path-bytes.ts';

const REPAIR_HINT =
  'this file is not an overlay umlkit can use as it is; if it should be one, restore it from a copy, or make a new one with `umlkit cow create`';

function invalid(overlay: string, field: string, message: string, hint = REPAIR_HINT): UmlError {
  return new UmlError('COW_INVALID', `overlay ${quote(overlay)}: ${message}`, {
    hint,
    issues: [{ path: field, message }],
  });
}

/** True when the first bytes carry the COW magic in either byte order (what the kernel tests first). */
export function hasCowMagic(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  return view.getUint32(0, false) === COW_MAGIC || view.getUint32(0, true) === COW_MAGIC;
}

interface Fields {
  readonly pathStart: number;
  readonly pathBytes: number;
  readonly mtime: number;
  readonly size: bigint;
  readonly sectorSize: number;
  readonly alignment: number;
  readonly cowFormat: number;
}

/**
 * Decode the header at the start of an overlay. `bytes` may be the whole file or just its first
 * MAX_HEADER_BYTES; `overlay` names the file in error messages.
 * @throws {UmlError} COW_INVALID for anything the kernel would not read as a sound header, and for headers it
 *   would read but misinterpret (a little-endian v2/v3, a sector size other than 512, a zero alignment).
 */
export function decodeCowHeader(bytes: Uint8Array, overlay: string): CowHeader {
  if (bytes.length < 8) {
    throw invalid(overlay, 'length', `the file is ${bytes.length} bytes long, too short for a COW header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const big = view.getUint32(0, false) === COW_MAGIC;
  const little = !big && view.getUint32(0, true) === COW_MAGIC;
  if (!big && !little) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw invalid(
      overlay,
      'magic',
      `it does not start with the COW magic "OOOM" (found bytes ${quote(hex)})`,
      'this is not a UML overlay; a plain disk image is used directly, not through `umlkit cow`',
    );
  }
  // The kernel reads the version in the magic's byte order.
  const version = view.getUint32(4, little);
  let kind: CowHeaderKind;
  let headerBytes: number;
  let fields: Fields;
  const need = (n: number, what: string): void => {
    if (bytes.length < n) {
      throw invalid(
        overlay,
        'length',
        `the file is ${bytes.length} bytes long, but a ${what} header needs ${n}`,
      );
    }
  };
  if (version === 1) {
    // v1 was written with raw host-order fields; the kernel reads them raw whatever the magic's order, so on
    // x86 they are little-endian. That is what v1 files written by the kernel look like, and we read them so.
    need(V1_HEADER_BYTES, 'v1');
    kind = 'v1';
    headerBytes = V1_HEADER_BYTES;
    fields = {
      pathStart: 8,
      pathBytes: V1_PATH_BYTES,
      mtime: view.getUint32(264, true),
      size: view.getBigUint64(268, true),
      sectorSize: view.getInt32(276, true),
      alignment: 0,
      cowFormat: 0,
    };
  } else if (version === 2 || version === 3) {
    if (little) {
      // No writer ever produced one: the kernel would read the version natively and every other field
      // big-endian, i.e. garbage sizes and paths.
      throw invalid(
        overlay,
        'magic',
        `a little-endian v${version} header ("MOOO"); v${version} headers are always big-endian`,
      );
    }
    if (version === 2) {
      need(V2_HEADER_BYTES, 'v2');
      kind = 'v2';
      headerBytes = V2_HEADER_BYTES;
      fields = {
        pathStart: 8,
        pathBytes: V2_PATH_BYTES,
        mtime: view.getUint32(4104, false),
        size: view.getBigUint64(4108, false),
        sectorSize: view.getInt32(4116, false),
        alignment: 0,
        cowFormat: 0,
      };
    } else {
      need(V3_HEADER_BYTES, 'v3');
      // A path never starts with four NULs; in the old 64-bit layout those bytes are cow_format (always 0).
      const broken = view.getUint32(32, false) === 0;
      if (broken) {
        need(36 + V3_PATH_BYTES, 'v3 (64-bit layout)');
        kind = 'v3-broken';
        headerBytes = V3_BROKEN_HEADER_BYTES;
        fields = {
          pathStart: 36,
          pathBytes: V3_PATH_BYTES,
          mtime: view.getUint32(8, false),
          size: view.getBigUint64(16, false),
          sectorSize: view.getUint32(24, false),
          alignment: view.getUint32(28, false),
          cowFormat: view.getUint32(32, false),
        };
      } else {
        kind = 'v3';
        headerBytes = V3_HEADER_BYTES;
        fields = {
          pathStart: 32,
          pathBytes: V3_PATH_BYTES,
          mtime: view.getUint32(8, false),
          size: view.getBigUint64(12, false),
          sectorSize: view.getUint32(20, false),
          alignment: view.getUint32(24, false),
          cowFormat: view.getUint32(28, false),
        };
      }
    }
  } else {
    throw invalid(overlay, 'version', `unknown COW version ${quote(version)}; UML knows versions 1, 2 and 3`);
  }

  const nul = findNul(bytes, fields.pathStart, fields.pathStart + fields.pathBytes);
  if (nul < 0) {
    throw invalid(
      overlay,
      'backing_file',
      `the backing path has no terminating NUL within its ${fields.pathBytes} bytes`,
    );
  }
  if (nul === fields.pathStart) throw invalid(overlay, 'backing_file', 'the backing path is empty');
  const backingPathBytes = bytes.slice(fields.pathStart, nul);
  const backingPath = decodePath(backingPathBytes).text;

  if (fields.sectorSize !== SECTOR_BYTES) {
    throw invalid(
      overlay,
      'sectorsize',
      `sector size ${quote(fields.sectorSize)} is not 512, the only size the kernel's ubd driver uses for its bitmap`,
    );
  }
  let alignment = fields.sectorSize;
  if (kind === 'v3' || kind === 'v3-broken') {
    alignment = fields.alignment;
    // Zero would make the kernel divide by zero; others are not powers of two no writer produces.
    if (alignment < 512 || alignment > MAX_ALIGNMENT || (alignment & (alignment - 1)) !== 0) {
      throw invalid(
        overlay,
        'alignment',
        `alignment ${quote(alignment)} is not a power of two from 512 to ${MAX_ALIGNMENT}`,
      );
    }
    if (fields.cowFormat !== 0) {
      throw invalid(
        overlay,
        'cow_format',
        `COW format ${quote(fields.cowFormat)} is unknown; only 0 (bitmap) exists`,
      );
    }
  }
  if (fields.size > BigInt(MAX_DISK_BYTES)) {
    throw invalid(
      overlay,
      'size',
      `the recorded base size ${quote(fields.size.toString())} bytes is larger than the ${MAX_DISK_BYTES / 2 ** 40} TiB umlkit accepts`,
    );
  }
  return {
    kind,
    version,
    magicOrder: big ? 'big' : 'little',
    backingPathBytes,
    backingPath,
    mtime: fields.mtime,
    sizeBytes: Number(fields.size),
    sectorSize: fields.sectorSize,
    alignment,
    headerBytes,
  };
}
