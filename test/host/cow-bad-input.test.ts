// Hostile and broken overlay files on disk: every verb gives a typed error, quickly, and writes nothing.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUmlError } from '../../src/core/errors.ts';
import { commitOverlay } from '../../src/host/cow/commit.ts';
import { createOverlay } from '../../src/host/cow/create.ts';
import { diffOverlay } from '../../src/host/cow/diff.ts';
import { inspectOverlay } from '../../src/host/cow/inspect.ts';
import { mergeOverlay } from '../../src/host/cow/merge.ts';
import { rebaseOverlay } from '../../src/host/cow/rebase.ts';
import { makeBase, sha256, tempDir } from '../helpers/cow-files.ts';
import { encodeLegacyHeader } from '../helpers/cow-legacy.ts';

let t: ReturnType<typeof tempDir>;
let base: string;
let good: Buffer;
beforeAll(() => {
  t = tempDir();
  base = join(t.dir, 'base.img');
  makeBase(base, 1 << 20);
  createOverlay(join(t.dir, 'good.cow'), base);
  good = readFileSync(join(t.dir, 'good.cow'));
});
afterAll(() => t.cleanup());

const patched = (fn: (b: Buffer) => void, length?: number): Buffer => {
  const b = Buffer.from(good.subarray(0, length ?? good.length));
  fn(b);
  return b;
};
const path = (s: string): Uint8Array => Buffer.from(s);

const cases: [string, () => Buffer | 'fifo', string][] = [
  ['empty file', () => Buffer.alloc(0), 'COW_INVALID'],
  ['truncated inside the header', () => good.subarray(0, 100), 'COW_INVALID'],
  ['truncated inside the bitmap', () => good.subarray(0, 8192 + 100), 'COW_INVALID'],
  ['truncated before the data area', () => good.subarray(0, 8192 + 256 + 10), 'COW_INVALID'],
  [
    'written sector past the end',
    () => patched((b) => (b[8192 + 255] = 0x80)).subarray(0, 12288 + 512),
    'COW_INVALID',
  ],
  ['garbage', () => Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7919) % 251)), 'COW_INVALID'],
  ['an ext4-like plain image', () => Buffer.alloc(1 << 16), 'COW_INVALID'],
  ['wrong magic', () => patched((b) => b.write('MOOX', 0)), 'COW_INVALID'],
  [
    'little-endian v3',
    () =>
      patched((b) => {
        b.writeUInt32LE(0x4f4f4f4d, 0);
        b.writeUInt32LE(3, 4);
      }),
    'COW_INVALID',
  ],
  ['unknown version', () => patched((b) => b.writeUInt32BE(9, 4)), 'COW_INVALID'],
  ['huge size', () => patched((b) => b.writeBigUInt64BE(0xffff_ffff_ffff_0000n, 12)), 'COW_INVALID'],
  ['size of 4 TiB with a tiny file', () => patched((b) => b.writeBigUInt64BE(2n ** 42n, 12)), 'COW_INVALID'],
  ['path without a NUL', () => patched((b) => b.fill(0x41, 32, 4128)), 'COW_INVALID'],
  ['zero sector size', () => patched((b) => b.writeUInt32BE(0, 20)), 'COW_INVALID'],
  ['zero alignment', () => patched((b) => b.writeUInt32BE(0, 24)), 'COW_INVALID'],
  [
    'bitmap offset past the end (alignment 1 MiB)',
    () => patched((b) => b.writeUInt32BE(1 << 20, 24)),
    'COW_INVALID',
  ],
  [
    'v1 with zero sector size',
    () =>
      Buffer.from(
        encodeLegacyHeader('v1', {
          path: path(base),
          mtime: 1_700_000_000,
          sizeBytes: 1 << 20,
          sectorSize: 0,
        }),
      ),
    'COW_INVALID',
  ],
  [
    'v1 header only, no bitmap',
    () =>
      Buffer.from(encodeLegacyHeader('v1', { path: path(base), mtime: 1_700_000_000, sizeBytes: 1 << 20 })),
    'COW_INVALID',
  ],
  [
    'a header naming a host file that is not its base',
    () =>
      patched((b) => {
        b.fill(0, 32, 4128);
        b.write('/etc/passwd', 32);
      }),
    'COW_MISMATCH',
  ],
  [
    'a header naming a missing base',
    () =>
      patched((b) => {
        b.fill(0, 32, 4128);
        b.write('/nonexistent/base.img', 32);
      }),
    'COW_BASE_MISSING',
  ],
  ['a FIFO', () => 'fifo', 'COW_INVALID'],
];

describe('bad overlays', () => {
  it.each(cases)('%s: typed error from every verb, nothing written', async (name, make, code) => {
    const dir = join(t.dir, name.replace(/\W+/g, '-'));
    execFileSync('mkdir', [dir]);
    const overlay = join(dir, 'bad.cow');
    const content = make();
    if (content === 'fifo') execFileSync('mkfifo', [overlay]);
    else writeFileSync(overlay, content);
    const before = content === 'fifo' ? '' : sha256(overlay);
    const baseHash = sha256(base);
    const started = Date.now();
    const verbs: [string, () => unknown][] = [
      ['info', () => inspectOverlay(overlay)],
      ['merge', () => mergeOverlay(overlay)],
      ['commit', () => commitOverlay(overlay, join(dir, 'out.img'))],
      ['diff', () => diffOverlay(overlay)],
      ['rebase', () => rebaseOverlay(overlay, base)],
    ];
    // For a header that names the wrong or a missing base, rebasing onto the real base is the fix, not an error.
    if (code === 'COW_MISMATCH' || code === 'COW_BASE_MISSING') verbs.pop();
    for (const [verb, run] of verbs) {
      let error: unknown;
      try {
        await run();
      } catch (e) {
        error = e;
      }
      if (verb === 'info' && (code === 'COW_MISMATCH' || code === 'COW_BASE_MISSING')) {
        // info reports a base problem rather than failing on it.
        expect(error).toBeUndefined();
        continue;
      }
      expect(isUmlError(error, code as never), `${verb}: ${String(error)}`).toBe(true);
    }
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readdirSync(dir)).toEqual(['bad.cow']);
    if (content !== 'fifo') expect(sha256(overlay)).toBe(before);
    expect(sha256(base)).toBe(baseHash);
  });
});
