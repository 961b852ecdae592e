// Size strings as users type them ("100M", "1G", "512k", "4096") to bytes, and bytes back to text.
import { quote, UmlError } from './errors.ts';

const SUFFIX: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * Parse a size such as `100M`, `1.5G`, `64KiB` or `4096` (bytes). Suffixes are binary (K = 1024).
 * @throws {UmlError} INVALID_SIZE with the value quoted.
 */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?\s*$/.exec(text);
  if (!m || (m[3] !== undefined && m[2] === '' && m[3] !== 'B' && m[3] !== 'b')) {
    throw new UmlError('INVALID_SIZE', `${what} ${quote(text)} is not a size`, {
      hint: 'write a number with an optional K, M, G or T suffix, e.g. `100M` or `1G`',
    });
  }
  const factor = SUFFIX[(m[2] ?? '').toUpperCase()] ?? 1;
  const bytes = Math.round(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UmlError('INVALID_SIZE', `${what} ${quote(text)} must be greater than zero`, {
      hint: 'e.g. `100M` or `1G`',
    });
  }
  return bytes;
}

/** Human-readable binary size, e.g. `100 MiB`. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/**
 * Parse a duration in seconds (`30`, `1.5`, `2m`, `500ms`) to milliseconds.
 * @throws {UmlError} USAGE when it is not a positive duration.
 */
export function parseDurationMs(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const ms = m ? Number(m[1]) * (scale[m[2] ?? 's'] ?? 1000) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new UmlError('USAGE', `${what} ${quote(text)} is not a positive duration`, {
      hint: 'give seconds, e.g. `30`, or a unit: `500ms`, `2m`',
    });
  }
  return Math.round(ms);
}
