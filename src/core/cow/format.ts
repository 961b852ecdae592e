// The vocabulary of UML's copy-on-write overlay format: magic, versions, field sizes, limits and the header type.

/** "OOOM" when stored big-endian, as every writer since v2 does. */
export const COW_MAGIC = 0x4f4f4f4d;

/** Sizes of the packed header structs the kernel reads (arch/um/drivers/cow_user.c). */
export const V1_HEADER_BYTES = 280;
export const V2_HEADER_BYTES = 4120;
export const V3_HEADER_BYTES = 4128;
/** An old unpacked v3 writer left 4 bytes of padding after mtime and 4 at the end. */
export const V3_BROKEN_HEADER_BYTES = 4136;
/** The kernel reads this many bytes (the size of its header union), so a reader needs no more. */
export const MAX_HEADER_BYTES = V3_BROKEN_HEADER_BYTES;

export const V1_PATH_BYTES = 256;
export const V2_PATH_BYTES = 4096;
export const V3_PATH_BYTES = 4096;

/** ubd does all COW I/O in 512-byte sectors and indexes the bitmap by them, whatever a header says. */
export const SECTOR_BYTES = 512;
/** What the kernel and uml_mkcow write: the page size, so the data area starts on a page. */
export const DEFAULT_ALIGNMENT = 4096;
/** Larger alignments exist on 64 KiB-page hosts; beyond 1 MiB a header is not one any writer made. */
export const MAX_ALIGNMENT = 1 << 20;
/**
 * The largest base we accept: 4 TiB. Its bitmap is 1 GiB, which still fits one buffer; beyond it a header is
 * far more likely hostile than real, and trusting it would make us allocate what it says.
 */
export const MAX_DISK_BYTES = 2 ** 42;

export type CowVersion = 1 | 2 | 3;
/** `v3-broken` is the 64-bit unpacked v3 layout the kernel still recovers. */
export type CowHeaderKind = 'v1' | 'v2' | 'v3' | 'v3-broken';

export interface CowHeader {
  readonly kind: CowHeaderKind;
  readonly version: CowVersion;
  /** Byte order of the magic on disk: big for every current writer, little for an x86 v1. */
  readonly magicOrder: 'big' | 'little';
  /** The backing path as stored (up to the first NUL). Paths are bytes on Linux; this keeps them exact. */
  readonly backingPathBytes: Uint8Array;
  /** The same path decoded as UTF-8 (invalid sequences become U+FFFD); for messages and string APIs. */
  readonly backingPath: string;
  /** The backing file's st_mtime in whole seconds when the overlay was made (u32). */
  readonly mtime: number;
  readonly sizeBytes: number;
  readonly sectorSize: number;
  /** Bitmap and data alignment; v1/v2 have none and align to the sector size. */
  readonly alignment: number;
  /** Bytes of the header struct; the bitmap of v1/v2 starts right after it. */
  readonly headerBytes: number;
}
