// `umlkit disk create|ls|cat` without a guest: every filesystem, `--from`, entry types, and the errors for
// a missing disk file as opposed to a missing path inside a disk.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cow-files.ts';
import { type CliOutcome, runCliInProcess } from '../helpers/in-process-cli.ts';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir('umlkit-disk-');
});
afterEach(() => t.cleanup());

const cli = (...argv: string[]): Promise<CliOutcome> =>
  runCliInProcess(argv, { PATH: process.env.PATH, UMLKIT_STATE_DIR: join(t.dir, 'state') }, t.dir);

/** A host tree with one of each: a file, a directory (holding a file) and a symlink. */
function makeTree(): string {
  const src = join(t.dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'hello.txt'), 'hello from the host\n');
  writeFileSync(join(src, 'sub', 'inner.txt'), 'inner\n');
  symlinkSync('hello.txt', join(src, 'link'));
  return src;
}

const features = (path: string): string[] =>
  /Filesystem features:\s+(.*)/
    .exec(
      execFileSync('dumpe2fs', ['-h', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    )?.[1]
    ?.split(/\s+/) ?? [];

describe('disk create --from, read back with disk ls and disk cat', () => {
  it('lists files, directories and symlinks with their types (text and --json)', async () => {
    makeTree();
    expect(await cli('disk', 'create', 'd.ext4', '--size', '8M', '--from', 'src')).toMatchObject({ code: 0 });

    const text = await cli('disk', 'ls', 'd.ext4:/');
    expect(text.code).toBe(0);
    const modes = Object.fromEntries(
      text.out
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/))
        .map((cols) => [cols[4], cols[0]]),
    );
    expect(modes).toEqual({
      'lost+found/': 'd0700',
      'hello.txt': 'f0644',
      link: 's0777',
      'sub/': 'd0755',
    });

    const json = await cli('disk', 'ls', 'd.ext4:/', '--json');
    expect(json.code).toBe(0);
    const listing = JSON.parse(json.out) as { entries: { name: string; type: string; sizeBytes: number }[] };
    const byName = Object.fromEntries(listing.entries.map((e) => [e.name, e]));
    expect(byName['hello.txt']).toMatchObject({ type: 'file', sizeBytes: 20 });
    expect(byName.sub).toMatchObject({ type: 'dir' });
    expect(byName.link).toMatchObject({ type: 'symlink', sizeBytes: 'hello.txt'.length });
    expect(listing.entries.some((e) => e.type === 'other')).toBe(false);

    expect((await cli('disk', 'ls', 'd.ext4:/sub', '--json')).out).toContain(
      '"name":"inner.txt","type":"file"',
    );
    expect((await cli('disk', 'cat', 'd.ext4:/hello.txt')).out).toBe('hello from the host\n');
    expect((await cli('disk', 'cat', 'd.ext4:/sub/inner.txt')).out).toBe('inner\n');
    const link = await cli('disk', 'cat', 'd.ext4:/link');
    expect(link.code).toBe(2);
    expect(link.err).toMatch(/^error\[USAGE\]: `\/link` in `.*d\.ext4` is not a regular file/);
  });

  it.each(['ext2', 'ext3', 'ext4'])('--fs %s makes that filesystem, readable from the host', async (fs) => {
    makeTree();
    const made = await cli('disk', 'create', `d.${fs}`, '--size', '8M', '--fs', fs, '--from', 'src');
    expect(made).toMatchObject({ code: 0 });
    expect(made.out).toBe(`created ${join(t.dir, `d.${fs}`)} (8 MiB, ${fs})\n`);
    expect(statSync(join(t.dir, `d.${fs}`)).size).toBe(8 << 20);
    const f = features(join(t.dir, `d.${fs}`));
    expect(f.includes('has_journal')).toBe(fs !== 'ext2');
    expect(f.includes('extent')).toBe(fs === 'ext4');
    expect((await cli('disk', 'cat', `d.${fs}:/hello.txt`)).out).toBe('hello from the host\n');
    const ls = JSON.parse((await cli('disk', 'ls', `d.${fs}:/`, '--json')).out) as {
      entries: { name: string; type: string }[];
    };
    expect(ls.entries.find((e) => e.name === 'link')?.type).toBe('symlink');
  });

  it('--fs raw makes a sparse file of exactly the size, and refuses --from', async () => {
    const made = await cli('disk', 'create', 'r.img', '--size', '3M', '--fs', 'raw');
    expect(made).toMatchObject({ code: 0 });
    const st = statSync(join(t.dir, 'r.img'));
    expect(st.size).toBe(3 << 20);
    expect(st.blocks * 512).toBeLessThan(st.size);
    makeTree();
    const from = await cli('disk', 'create', 'r2.img', '--size', '3M', '--fs', 'raw', '--from', 'src');
    expect(from.code).toBe(2);
    expect(from.err).toMatch(/^error\[USAGE\]: --from needs a filesystem/);
  });
});

describe('a missing disk file is not a missing path inside a disk', () => {
  it.each([
    ['ls', 'nope.ext4:/'],
    ['cat', 'nope.ext4:/foo.txt'],
  ])('disk %s of a disk that does not exist', async (verb, spec) => {
    const r = await cli('disk', verb, spec);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error\[DISK_NOT_FOUND\]: disk `.*\/nope\.ext4` does not exist\n/);
    expect(r.err).toMatch(/\nhint: create one with `umlkit disk create/);
    expect(r.err).not.toMatch(/not found in/);
  });

  it.each([
    ['ls', 'd.ext4:/nothing'],
    ['cat', 'd.ext4:/nothing.txt'],
  ])('disk %s of a path the disk does not hold', async (verb, spec) => {
    expect((await cli('disk', 'create', 'd.ext4', '--size', '8M')).code).toBe(0);
    const r = await cli('disk', verb, spec);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error\[DISK_NOT_FOUND\]: `\/nothing(\.txt)?` not found in `.*\/d\.ext4`\n/);
    expect(r.err).toMatch(/\nhint: list the directory with `umlkit disk ls/);
  });
});
