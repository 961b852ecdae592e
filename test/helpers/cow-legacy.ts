// Test-only writers for the header layouts umlkit reads but never writes (v1, v2, the broken 64-bit v3, v3 with
// another alignment), and a re-encoder that moves an overlay's bitmap and data into such a layout.
import { decodeCowHeader } from '../../src/core/cow/decode-header.ts';
import type { CowHeader, CowHeaderKind } from '../../src/core/cow/format.ts';
import { cowLayout } from '../../src/core/cow/layout.ts';

export interface LegacyFields {
  readonly path: Uint8Array;
  readonly mtime: number;
  readonly sizeBytes: number;
  readonly sectorSize?: number;
  readonly alignment?: number;
}

export function encodeLegacyHeader(kind: CowHeaderKind, f: LegacyFields): Uint8Array {
  const ss = f.sectorSize ?? 512;
  if (kind === 'v3') {
    // Written field by field rather than through encodeCowHeaderV3, so tests can record out-of-range values.
    const out = new Uint8Array(4128);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0x4f4f4f4d, false);
    v.setUint32(4, 3, false);
    v.setUint32(8, f.mtime, false);
    v.setBigUint64(12, BigInt(f.sizeBytes), false);
    v.setUint32(20, ss, false);
    v.setUint32(24, f.alignment ?? 4096, false);
    out.set(f.path, 32);
    return out;
  }
  if (kind === 'v1') {
    // Raw x86 host order: everything little-endian, magic bytes "MOOO".
    const out = new Uint8Array(280);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0x4f4f4f4d, true);
    v.setUint32(4, 1, true);
    out.set(f.path, 8);
    v.setUint32(264, f.mtime, true);
    v.setBigUint64(268, BigInt(f.sizeBytes), true);
    v.setInt32(276, ss, true);
    return out;
  }
  if (kind === 'v2') {
    const out = new Uint8Array(4120);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0x4f4f4f4d, false);
    v.setUint32(4, 2, false);
    out.set(f.path, 8);
    v.setUint32(4104, f.mtime, false);
    v.setBigUint64(4108, BigInt(f.sizeBytes), false);
    v.setInt32(4116, ss, false);
    return out;
  }
  const out = new Uint8Array(4136);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x4f4f4f4d, false);
  v.setUint32(4, 3, false);
  v.setUint32(8, f.mtime, false);
  v.setBigUint64(16, BigInt(f.sizeBytes), false);
  v.setUint32(24, ss, false);
  v.setUint32(28, f.alignment ?? 4096, false);
  v.setUint32(32, 0, false);
  out.set(f.path, 36);
  return out;
}

/** The complete bytes of `overlay` (a whole overlay file) re-encoded in layout `kind`. */
export function reencodeOverlay(overlay: Uint8Array, kind: CowHeaderKind, alignment = 4096): Uint8Array {
  const header: CowHeader = decodeCowHeader(overlay, 'source');
  const from = cowLayout(header);
  const head = encodeLegacyHeader(kind, {
    path: header.backingPathBytes,
    mtime: header.mtime,
    sizeBytes: header.sizeBytes,
    alignment,
  });
  const to = cowLayout(decodeCowHeader(head, 'target'));
  const out = new Uint8Array(to.fullFileBytes);
  out.set(head, 0);
  const bits = Math.min(from.mappedSectors, to.mappedSectors);
  for (let s = 0; s < bits; s++) {
    if ((((overlay[from.bitmapOffset + (s >>> 3)] ?? 0) >>> (s & 7)) & 1) === 0) continue;
    out[to.bitmapOffset + (s >>> 3)] = (out[to.bitmapOffset + (s >>> 3)] ?? 0) | (1 << (s & 7));
    out.set(
      overlay.subarray(from.dataOffset + s * 512, from.dataOffset + s * 512 + 512),
      to.dataOffset + s * 512,
    );
  }
  return out;
}
