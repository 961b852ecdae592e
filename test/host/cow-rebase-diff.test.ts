// Rebase onto a moved base, and diff: changed byte ranges and, for ext4, changed files.
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUmlError } from '../../src/core/errors.ts';
import { commitOverlay } from '../../src/host/cow/commit.ts';
import { createOverlay } from '../../src/host/cow/create.ts';
import { diffOverlay } from '../../src/host/cow/diff.ts';
import { inspectOverlay } from '../../src/host/cow/inspect.ts';
import { rebaseOverlay } from '../../src/host/cow/rebase.ts';
import {
  makeBase,
  overlayFromImages,
  sh,
  sha256,
  tempDir,
  UML_MOO,
  writeSectors,
} from '../helpers/cow-files.ts';
import { encodeLegacyHeader, reencodeOverlay } from '../helpers/cow-legacy.ts';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

describe('cow rebase', () => {
  it('re-points an overlay at a moved base; the kernel-compatible header reads the same data', async () => {
    const base = join(t.dir, 'base.img');
    makeBase(base, 4 << 20);
    const overlay = join(t.dir, 'o.cow');
    createOverlay(overlay, base);
    writeSectors(overlay, [0, 5, 999]);
    sh(UML_MOO, [overlay, join(t.dir, 'before.img')]);
    mkdirSync(join(t.dir, 'moved'));
    const moved = join(t.dir, 'moved', 'renamed-base.img');
    renameSync(base, moved);
    expect(inspectOverlay(overlay).base.status).toBe('missing');
    const r = rebaseOverlay(overlay, moved);
    expect(r.newBasePath).toBe(moved);
    expect(inspectOverlay(overlay).base).toMatchObject({ path: moved, status: 'ok' });
    // uml_moo follows the new path too.
    sh(UML_MOO, [overlay, join(t.dir, 'after.img')]);
    expect(sha256(join(t.dir, 'after.img'))).toBe(sha256(join(t.dir, 'before.img')));
  });

  it('refuses a copy with another mtime or size, explaining both ways out', () => {
    const base = join(t.dir, 'base.img');
    makeBase(base, 1 << 20);
    const overlay = join(t.dir, 'o.cow');
    createOverlay(overlay, base);
    const header = readFileSync(overlay).subarray(0, 4128);
    copyFileSync(base, join(t.dir, 'copy.img')); // no -p: a new mtime
    try {
      rebaseOverlay(overlay, join(t.dir, 'copy.img'));
      expect.unreachable();
    } catch (e) {
      if (!isUmlError(e)) throw e;
      expect(e.code).toBe('COW_MISMATCH');
      expect(e.hint).toContain('cp -p');
      expect(e.hint).toContain('touch -d @1700000000');
    }
    writeFileSync(join(t.dir, 'other.img'), Buffer.alloc(512));
    sh('touch', ['-r', base, join(t.dir, 'other.img')]);
    expect(() => rebaseOverlay(overlay, join(t.dir, 'other.img'))).toThrow(
      expect.objectContaining({ code: 'COW_MISMATCH' }),
    );
    expect(readFileSync(overlay).subarray(0, 4128).equals(header)).toBe(true);
  });

  it('rebases a v1 overlay in its own layout, and refuses a path v1 cannot hold', async () => {
    const base = join(t.dir, 'base.img');
    makeBase(base, 1 << 20);
    createOverlay(join(t.dir, 'v3.cow'), base);
    writeSectors(join(t.dir, 'v3.cow'), [3]);
    const v1 = join(t.dir, 'v1.cow');
    writeFileSync(v1, reencodeOverlay(readFileSync(join(t.dir, 'v3.cow')), 'v1'));
    const deep = join(t.dir, 'x'.repeat(200), 'y'.repeat(60));
    mkdirSync(deep, { recursive: true });
    copyFileSync(base, join(deep, 'b.img'));
    sh('touch', ['-r', base, join(deep, 'b.img')]);
    expect(() => rebaseOverlay(v1, join(deep, 'b.img'))).toThrow(
      expect.objectContaining({ code: 'COW_INVALID' }),
    );
    sh('cp', ['-p', base, join(t.dir, 'b2.img')]);
    rebaseOverlay(v1, join(t.dir, 'b2.img'));
    expect(inspectOverlay(v1)).toMatchObject({
      layout: 'v1',
      base: { path: join(t.dir, 'b2.img'), status: 'ok' },
      dirtySectors: 1,
    });
    void encodeLegacyHeader;
  });
});

describe('cow diff', () => {
  it('lists the written byte ranges of any disk', () => {
    const base = join(t.dir, 'base.img');
    makeBase(base, 1 << 20);
    createOverlay(join(t.dir, 'o.cow'), base);
    writeSectors(join(t.dir, 'o.cow'), [0, 1, 2, 10]);
    const d = diffOverlay(join(t.dir, 'o.cow'));
    expect(d.extents).toEqual([
      { offset: 0, length: 1536 },
      { offset: 5120, length: 512 },
    ]);
    expect(d.filesystem).toBeNull();
  });

  it('names the files added, modified and removed in an ext4 image', async () => {
    const root = join(t.dir, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'data', 'deep'), { recursive: true });
    writeFileSync(join(root, 'etc', 'hostname'), 'old\n');
    writeFileSync(join(root, 'etc', 'keep'), 'unchanged\n');
    writeFileSync(join(root, 'data', 'deep', 'gone.txt'), 'bye\n');
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(300_000, 7));
    const base = join(t.dir, 'base.img');
    sh('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', root, base, '32M']);
    // What a guest would do, done with debugfs on a copy; the overlay is then the sectors that differ.
    const modified = join(t.dir, 'modified.img');
    copyFileSync(base, modified);
    writeFileSync(join(t.dir, 'new.txt'), 'hello\n');
    writeFileSync(join(t.dir, 'hostname'), 'new-name\n');
    const script = [
      `write ${join(t.dir, 'new.txt')} /data/new.txt`,
      'rm /etc/hostname',
      `write ${join(t.dir, 'hostname')} /etc/hostname`,
      'rm /data/deep/gone.txt',
      'mkdir /newdir',
      'sif /big.bin mode 0100600',
    ].join('\n');
    writeFileSync(join(t.dir, 'cmds'), `${script}\n`);
    sh('debugfs', ['-w', '-f', join(t.dir, 'cmds'), modified]);
    const overlay = join(t.dir, 'o.cow');
    createOverlay(overlay, base);
    expect(overlayFromImages(base, modified, overlay)).toBeGreaterThan(0);
    const d = diffOverlay(overlay);
    const files = d.filesystem?.files.map((f) => `${f.change} ${f.path}`);
    expect(files).toEqual(
      expect.arrayContaining([
        'added /data/new.txt',
        'modified /big.bin',
        'removed /data/deep/gone.txt',
        'added /newdir',
      ]),
    );
    // /etc/hostname was replaced: whether its inode number was reused or not, the name shows up as changed.
    // (debugfs, unlike the kernel, does not touch the parent directories' times, so they are not listed here.)
    expect(files?.some((f) => f.endsWith(' /etc/hostname'))).toBe(true);
    expect(files?.some((f) => f.includes('/etc/keep'))).toBe(false);
    // The flattened image equals the modified one: diff read exactly what the guest would see.
    await commitOverlay(overlay, join(t.dir, 'flat.img'));
    expect(sha256(join(t.dir, 'flat.img'))).toBe(sha256(modified));
  });
});

describe('checkOverlayPair (before a boot)', () => {
  it('accepts the recorded base, refuses another file of the same size and a changed base', async () => {
    const { checkOverlayPair } = await import('../../src/host/cow/check-pair.ts');
    const base = join(t.dir, 'base.img');
    makeBase(base, 1 << 20);
    const overlay = join(t.dir, 'o.cow');
    createOverlay(overlay, base);
    expect(() => checkOverlayPair(overlay, base)).not.toThrow();
    sh('cp', ['-p', base, join(t.dir, 'twin.img')]);
    expect(() => checkOverlayPair(overlay, join(t.dir, 'twin.img'))).toThrow(
      expect.objectContaining({ code: 'COW_MISMATCH', hint: expect.stringContaining('umlkit cow rebase') }),
    );
    sh('touch', [base]);
    expect(() => checkOverlayPair(overlay, base)).toThrow(expect.objectContaining({ code: 'COW_MISMATCH' }));
  });
});
