import { describe, expect, it } from 'vitest';
import { isUmlError } from './errors.ts';
import { formatSize, parseDurationMs, parseSize } from './units.ts';

describe('parseSize', () => {
  it.each([
    ['100M', 100 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['1.5G', 1.5 * 1024 ** 3],
    ['512k', 512 * 1024],
    ['64KiB', 64 * 1024],
    ['4096', 4096],
    ['2048b', 2048],
    [' 8m ', 8 * 1024 ** 2],
    ['1T', 1024 ** 4],
  ])('parses %s', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'M', '-1M', '10X', '1.2.3G', 'ten', '0', '0M', '10 M B', '5iB', '1e9'])(
    'refuses %j with INVALID_SIZE',
    (text) => {
      try {
        parseSize(text, '--size');
        expect.unreachable();
      } catch (e) {
        expect(isUmlError(e, 'INVALID_SIZE')).toBe(true);
        expect((e as Error).message).toContain(`\`${text}\``);
        expect((e as { hint?: string }).hint).toMatch(/100M/);
      }
    },
  );
});

describe('formatSize', () => {
  it('uses binary units', () => {
    expect(formatSize(100 * 1024 ** 2)).toBe('100 MiB');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(12)).toBe('12 B');
  });
});

describe('parseDurationMs', () => {
  it('reads seconds by default and units when given', () => {
    expect(parseDurationMs('30')).toBe(30_000);
    expect(parseDurationMs('1.5')).toBe(1500);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('2m')).toBe(120_000);
  });
  it('refuses non-durations', () => {
    expect(() => parseDurationMs('soon')).toThrow(/`soon` is not a positive duration/);
    expect(() => parseDurationMs('0')).toThrow(/positive/);
  });
});
