// The `umlkit cow …` verbs end to end through the CLI entry: output, --json, exit codes and error rendering.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBase, sh, sha256, tempDir, UML_MOO, writeSectors } from '../helpers/cow-files.ts';
import { type CliOutcome, runCliInProcess } from '../helpers/in-process-cli.ts';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

const cli = (...argv: string[]): Promise<CliOutcome> =>
  runCliInProcess(argv, { ...process.env, UMLKIT_STATE_DIR: join(t.dir, 'state') }, t.dir);

describe('umlkit cow', () => {
  it('create, info, diff, commit, merge, rebase', async () => {
    makeBase(join(t.dir, 'base.img'), 2 << 20);
    expect(await cli('cow', 'create', 'o.cow', '--base', 'base.img')).toMatchObject({ code: 0 });
    writeSectors(join(t.dir, 'o.cow'), [1, 2, 3, 100]);

    const info = await cli('cow', 'info', 'o.cow', '--json');
    expect(info.code).toBe(0);
    const j = JSON.parse(info.out);
    expect(j).toMatchObject({
      version: 3,
      layout: 'v3',
      dirtySectors: 4,
      base: {
        path: join(t.dir, 'base.img'),
        status: 'ok',
        recordedSizeBytes: 2 << 20,
        actualSizeBytes: 2 << 20,
      },
    });
    const text = await cli('cow', 'info', 'o.cow');
    expect(text.out).toContain('sectors written  4 of 4096');

    const diff = await cli('cow', 'diff', 'o.cow', '--json');
    expect(JSON.parse(diff.out).extents).toEqual([
      { offset: 512, length: 1536 },
      { offset: 51200, length: 512 },
    ]);
    expect((await cli('cow', 'diff', 'o.cow')).out).toContain('4 sectors written');

    expect((await cli('cow', 'commit', 'o.cow', 'flat.img')).code).toBe(0);
    sh(UML_MOO, [join(t.dir, 'o.cow'), join(t.dir, 'ref.img')]);
    expect(sha256(join(t.dir, 'flat.img'))).toBe(sha256(join(t.dir, 'ref.img')));
    expect((await cli('cow', 'commit', 'o.cow', 'flat.img')).code).toBe(1);

    sh('mkdir', [join(t.dir, 'new')]);
    sh('cp', ['-p', join(t.dir, 'base.img'), join(t.dir, 'new', 'base.img')]);
    const rebased = await cli('cow', 'rebase', 'o.cow', '--base', 'new/base.img');
    expect(rebased.code).toBe(0);
    expect(rebased.out).toContain(join(t.dir, 'new', 'base.img'));

    const merged = await cli('cow', 'merge', 'o.cow');
    expect(merged.code).toBe(0);
    expect(merged.out).toContain('merged 4 sectors');
    expect(sha256(join(t.dir, 'new', 'base.img'))).toBe(sha256(join(t.dir, 'ref.img')));
    // The original base was never written.
    expect(readFileSync(join(t.dir, 'base.img')).readUInt32LE(512)).toBe(1);
  });

  it('renders typed errors with a hint, and --json errors as JSON', async () => {
    makeBase(join(t.dir, 'base.img'), 1 << 20);
    await cli('cow', 'create', 'o.cow', '--base', 'base.img');
    sh('touch', [join(t.dir, 'base.img')]);
    const r = await cli('cow', 'merge', 'o.cow');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error\[COW_MISMATCH\]: base `.*base\.img` is not the file overlay/);
    expect(r.err).toContain('hint: ');
    const j = await cli('cow', 'info', 'nope.cow', '--json');
    expect(JSON.parse(j.err).error.code).toBe('DISK_NOT_FOUND');
    expect((await cli('cow', 'create', 'x.cow')).code).toBe(2);
    expect((await cli('cow', 'commit', 'o.cow')).err).toContain('USAGE');
    writeSectors(join(t.dir, 'o.cow'), [0]);
    const bad = await cli('cow', 'info', 'base.img');
    expect(bad.err).toContain('error[COW_INVALID]');
  });
});
