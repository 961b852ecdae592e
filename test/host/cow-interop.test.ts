// Our merge and commit against uml_moo on the same overlays, and every header layout the kernel reads.
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CowHeaderKind } from '../../src/core/cow/format.ts';
import { commitOverlay } from '../../src/host/cow/commit.ts';
import { createOverlay } from '../../src/host/cow/create.ts';
import { inspectOverlay } from '../../src/host/cow/inspect.ts';
import { mergeOverlay } from '../../src/host/cow/merge.ts';
import {
  makeBase,
  mtimeOf,
  rng,
  sh,
  sha256,
  tempDir,
  UML_MKCOW,
  UML_MOO,
  writeSectors,
} from '../helpers/cow-files.ts';
import { reencodeOverlay } from '../helpers/cow-legacy.ts';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

const SIZE = 16 << 20;
const SECTORS = SIZE / 512;

/** A base, and an overlay made by `maker` with ~10% of sectors written in a mix of single sectors and runs. */
function setup(maker: 'ours' | 'uml_mkcow'): { base: string; overlay: string } {
  const base = join(t.dir, 'base.img');
  const overlay = join(t.dir, 'o.cow');
  makeBase(base, SIZE);
  if (maker === 'ours') createOverlay(overlay, base);
  else sh(UML_MKCOW, [overlay, base]);
  const r = rng(7);
  const dirty = new Set<number>();
  while (dirty.size < SECTORS / 10) {
    const start = Math.floor(r() * SECTORS);
    const len = r() < 0.5 ? 1 : 1 + Math.floor(r() * 64);
    for (let s = start; s < Math.min(SECTORS, start + len); s++) dirty.add(s);
  }
  dirty.add(0);
  dirty.add(SECTORS - 1);
  writeSectors(overlay, dirty);
  return { base, overlay };
}

describe('interop with uml_moo', () => {
  it.each(['ours', 'uml_mkcow'] as const)(
    'merge in place gives the bytes uml_moo -d gives (overlay by %s)',
    async (maker) => {
      const { base, overlay } = setup(maker);
      const theirs = join(t.dir, 'theirs.img');
      copyFileSync(base, theirs);
      sh('touch', ['-r', base, theirs]);
      sh(UML_MOO, ['-d', '-b', theirs, overlay]);
      const r = await mergeOverlay(overlay, {});
      expect(r.sectors).toBeGreaterThan(SECTORS / 10 - 1);
      expect(sha256(base)).toBe(sha256(theirs));
    },
  );

  it('commit gives the bytes uml_moo gives, leaves both inputs untouched, and is sparse', async () => {
    const { base, overlay } = setup('ours');
    const baseHash = sha256(base);
    const overlayHash = sha256(overlay);
    const baseMtime = statSync(base).mtimeMs;
    sh(UML_MOO, [overlay, join(t.dir, 'theirs.img')]);
    await commitOverlay(overlay, join(t.dir, 'ours.img'));
    expect(sha256(join(t.dir, 'ours.img'))).toBe(sha256(join(t.dir, 'theirs.img')));
    expect(sha256(base)).toBe(baseHash);
    expect(sha256(overlay)).toBe(overlayHash);
    expect(statSync(base).mtimeMs).toBe(baseMtime);
    expect(sh('ls', ['-A', t.dir]).trim().split('\n').sort()).toEqual([
      'base.img',
      'o.cow',
      'ours.img',
      'theirs.img',
    ]);
  });

  it('commit of a mostly-empty disk stays sparse', async () => {
    const base = join(t.dir, 'zero.img');
    writeFileSync(base, '');
    sh('truncate', ['-s', '64M', base]);
    createOverlay(join(t.dir, 'z.cow'), base);
    writeSectors(join(t.dir, 'z.cow'), [100, 101, 5000]);
    await commitOverlay(join(t.dir, 'z.cow'), join(t.dir, 'flat.img'));
    const st = statSync(join(t.dir, 'flat.img'));
    expect(st.size).toBe(64 << 20);
    expect(st.blocks * 512).toBeLessThanOrEqual(3 * 4096);
  });

  it.each([
    ['v1', 4096],
    ['v2', 4096],
    ['v3', 512],
    ['v3-broken', 4096],
    ['v3-broken', 512],
  ] as [CowHeaderKind, number][])(
    'reads a %s overlay (alignment %i) like uml_moo does',
    async (kind, alignment) => {
      const { overlay } = setup('uml_mkcow');
      const legacy = join(t.dir, `legacy-${kind}.cow`);
      writeFileSync(legacy, reencodeOverlay(readFileSync(overlay), kind, alignment));
      const info = inspectOverlay(legacy);
      expect(info.layout).toBe(kind);
      expect(info.base.status).toBe('ok');
      await commitOverlay(legacy, join(t.dir, 'ours.img'));
      sh(UML_MOO, [overlay, join(t.dir, 'reference.img')]);
      expect(sha256(join(t.dir, 'ours.img'))).toBe(sha256(join(t.dir, 'reference.img')));
      if (kind !== 'v3-broken') {
        // uml_moo itself reads v1/v2/v3 (not the broken layout): same image from the re-encoded file.
        sh(UML_MOO, [legacy, join(t.dir, 'theirs.img')]);
        expect(sha256(join(t.dir, 'theirs.img'))).toBe(sha256(join(t.dir, 'reference.img')));
      }
    },
  );

  it('uml_moo accepts overlays we create and merges them; our merge bumps the base mtime', async () => {
    const { base, overlay } = setup('ours');
    const before = mtimeOf(base);
    await mergeOverlay(overlay, {});
    expect(mtimeOf(base)).not.toBe(before);
  });
});
