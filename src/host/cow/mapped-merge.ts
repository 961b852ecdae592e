// The merge on a memory filesystem (tmpfs, ramfs): through shared mappings, on several threads, over our
// N-API addon (native/mapmerge/mapmerge.c, which says why). Used only by merge.ts.
import { availableParallelism } from 'node:os';
import { loadNativeAddon } from '../native-addon.ts';

export interface MappedMergeBinding {
  mergeMapped(
    fdIn: number,
    fdOut: number,
    bitmap: Uint8Array,
    fromSector: number,
    toSector: number,
    inOffset: number,
    sectorSize: number,
    sizeBytes: number,
    threads: number,
  ): [bytes: number, runs: number];
  /** Test hook: a byte read through a mapping under the merge's SIGBUS guard. */
  guardedReadByte(fd: number, offset: number): number;
}

/** tmpfs and ramfs: no device behind them, so a merge costs only the kernel's work per page. */
export const MEMORY_FILESYSTEMS: ReadonlySet<number> = new Set([0x01021994, 0x858458f6]);

/**
 * One call's share of the disk: 64 MiB. Large enough that starting threads and mapping cost nothing, small
 * enough for a progress bar, an interruption and the event loop to get a turn every few milliseconds.
 */
export const MAPPED_CHUNK_SECTORS = 131072;

/** The merge's threads: the cores, up to 4 (two already halve a 1 GiB merge here; more untested). */
export const mappedMergeThreads = (): number => Math.max(1, Math.min(4, availableParallelism()));

let binding: MappedMergeBinding | null | undefined;

/** The addon, or null when it is not built or UMLKIT_NO_MAPPED_MERGE is set (tests, the benchmark). */
export function mappedMerge(): MappedMergeBinding | null {
  if (binding !== undefined) return binding;
  binding = process.env.UMLKIT_NO_MAPPED_MERGE
    ? null
    : (loadNativeAddon<MappedMergeBinding>('mapmerge.node') ?? null);
  return binding;
}

/** Forget the loaded addon (tests switch UMLKIT_NO_MAPPED_MERGE between cases). */
export function resetMappedMerge(): void {
  binding = undefined;
}
