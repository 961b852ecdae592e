// Interop with the real kernel: it boots overlays we create (all header layouts), and we read, merge, commit
// and diff the overlays it creates, with the same bytes as uml_moo.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CowHeaderKind } from '../../src/core/cow/format.ts';
import { commitOverlay } from '../../src/host/cow/commit.ts';
import { createOverlay } from '../../src/host/cow/create.ts';
import { diffOverlay } from '../../src/host/cow/diff.ts';
import { inspectOverlay } from '../../src/host/cow/inspect.ts';
import { mergeOverlay } from '../../src/host/cow/merge.ts';
import { makeBase, sh, sha256, tempDir, UML_MOO } from '../helpers/cow-files.ts';
import { reencodeOverlay } from '../helpers/cow-legacy.ts';
import { boot, buildRootfs, guestSkipReason, killAllKernels, readGuestFile } from '../helpers/uml-boot.ts';

const skip = guestSkipReason();
let t: ReturnType<typeof tempDir>;
let base: string;
let baseHash: string;

// First boot writes /written.txt; a boot that finds it prints it. So one image tests both directions.
const INIT = `
/bin/busybox mount -t proc proc /proc
if [ -f /written.txt ]; then
  /bin/busybox echo "FOUND:$(/bin/busybox cat /written.txt)"
else
  /bin/busybox echo "guest-wrote-this-$(/bin/busybox cat /proc/sys/kernel/random/boot_id)" > /written.txt
  /bin/busybox sync
  /bin/busybox echo WROTE
fi
/bin/busybox poweroff -f`;

beforeAll(() => {
  if (skip) return;
  t = tempDir('umlkit-guest-cow-');
  base = join(t.dir, 'base.img');
  buildRootfs(base, INIT);
  sh('touch', ['-d', '@1700000000', base]);
  baseHash = sha256(base);
});
afterEach(() => killAllKernels());
afterAll(() => {
  killAllKernels();
  t?.cleanup();
});

const bootArgs = (ubd0: string): string[] => [`ubd0=${ubd0}`, 'root=/dev/ubda', 'rw', 'init=/init'];

describe.skipIf(skip)('COW with the real kernel', () => {
  it('boots an overlay we created, writes only to it, and we flatten what it wrote', async () => {
    const overlay = join(t.dir, 'ours.cow');
    createOverlay(overlay, base);
    const first = await boot('cowours', bootArgs(`${overlay},${base}`));
    expect(first.output).toContain('WROTE');
    expect(sha256(base)).toBe(baseHash);
    expect(inspectOverlay(overlay)).toMatchObject({ layout: 'v3', base: { status: 'ok' } });
    // It boots again from our overlay alone (the kernel takes the base from our header) and sees its write.
    const second = await boot('cowours2', bootArgs(overlay));
    expect(second.output).toMatch(/FOUND:guest-wrote-this-/);
    await commitOverlay(overlay, join(t.dir, 'ours-flat.img'));
    expect(readGuestFile(join(t.dir, 'ours-flat.img'), '/written.txt')).toMatch(/^guest-wrote-this-/);
    const d = diffOverlay(overlay);
    expect(d.filesystem?.files).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/written.txt', change: 'added' })]),
    );
    expect(sha256(base)).toBe(baseHash);
  });

  it('reads an overlay the kernel created: header, merge and commit match uml_moo', async () => {
    const overlay = join(t.dir, 'kernel.cow');
    const r = await boot('cowkern', bootArgs(`${overlay},${base}`));
    expect(r.output).toContain(`Creating "${overlay}" as COW file for "${base}"`);
    expect(r.output).toContain('WROTE');
    const info = inspectOverlay(overlay);
    expect(info).toMatchObject({
      version: 3,
      layout: 'v3',
      alignment: 4096,
      base: { path: base, status: 'ok' },
    });
    expect(info.dirtySectors).toBeGreaterThan(0);
    // Its header has kmalloc leftovers after the path's NUL, as in the committed golden file.
    expect(
      readFileSync(overlay)
        .subarray(32, 32 + base.length)
        .toString(),
    ).toBe(base);

    await commitOverlay(overlay, join(t.dir, 'ours.img'));
    sh(UML_MOO, [overlay, join(t.dir, 'theirs.img')]);
    expect(sha256(join(t.dir, 'ours.img'))).toBe(sha256(join(t.dir, 'theirs.img')));

    const ourBase = join(t.dir, 'merge-ours.img');
    const theirBase = join(t.dir, 'merge-theirs.img');
    for (const copy of [ourBase, theirBase]) {
      copyFileSync(base, copy);
      sh('touch', ['-r', base, copy]);
    }
    await mergeOverlay(overlay, { basePath: ourBase });
    sh(UML_MOO, ['-d', '-b', theirBase, overlay]);
    expect(sha256(ourBase)).toBe(sha256(theirBase));
    expect(readGuestFile(ourBase, '/written.txt')).toMatch(/^guest-wrote-this-/);
    // The merged base boots on its own and has the file.
    const merged = await boot('cowmerged', [`ubd0=${ourBase}`, 'root=/dev/ubda', 'rw', 'init=/init']);
    expect(merged.output).toMatch(/FOUND:guest-wrote-this-/);
    expect(sha256(base)).toBe(baseHash);
  });

  it.each([
    ['v1', 4096],
    ['v2', 4096],
    ['v3', 512],
    ['v3-broken', 4096],
  ] as [CowHeaderKind, number][])(
    'the kernel reads the guest write back through a %s header (alignment %i)',
    async (kind, alignment) => {
      const overlay = join(t.dir, `k-${kind}.cow`);
      const r = await boot(`cowsrc${kind.replace('-', '')}`, bootArgs(`${overlay},${base}`));
      expect(r.output).toContain('WROTE');
      const legacy = join(t.dir, `legacy-${kind}-${alignment}.cow`);
      writeFileSync(legacy, reencodeOverlay(readFileSync(overlay), kind, alignment));
      expect(inspectOverlay(legacy).layout).toBe(kind);
      const again = await boot(`cowleg${kind.replace('-', '')}`, bootArgs(`${legacy},${base}`));
      expect(again.output).toMatch(/FOUND:guest-wrote-this-/);
      expect(sha256(base)).toBe(baseHash);
    },
  );

  it('a base that changed after the overlay was made: the kernel refuses, and so do we, with a reason', async () => {
    const other = join(t.dir, 'other-base.img');
    makeBase(other, 1 << 20);
    const overlay = join(t.dir, 'stale.cow');
    createOverlay(overlay, other);
    sh('touch', ['-d', '@1800000000', other]);
    const r = await boot('cowstale', bootArgs(overlay), 30_000);
    expect(r.output).toContain('mtime mismatch');
    await expect(commitOverlay(overlay, join(t.dir, 'x.img'))).rejects.toMatchObject({
      code: 'COW_MISMATCH',
    });
  });
});
