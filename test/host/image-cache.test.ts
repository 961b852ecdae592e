// The image cache without a guest: what interrupted or killed builds left behind (staging trees, temporary
// images and manifests) is swept by the next `image ls` or `image build`, unless its build still runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cow-files.ts';
import { type CliOutcome, runCliInProcess } from '../helpers/in-process-cli.ts';

let t: ReturnType<typeof tempDir>;
let images: string;
beforeEach(() => {
  t = tempDir('umlkit-images-');
  images = join(t.dir, 'cache', 'images');
  mkdirSync(images, { recursive: true });
});
afterEach(() => t.cleanup());

const cli = (...argv: string[]): Promise<CliOutcome> =>
  runCliInProcess(
    argv,
    {
      PATH: process.env.PATH,
      UMLKIT_CACHE_DIR: join(t.dir, 'cache'),
      UMLKIT_STATE_DIR: join(t.dir, 'state'),
    },
    t.dir,
  );

/** A PID that no process has any more. */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid as number;
}

/** Leftovers of a build by `pid` (undefined: a name from before the pid was recorded), `ageMs` old. */
function leftovers(pid: number | undefined, ageMs = 0): string[] {
  const tag = pid === undefined ? '' : `-${pid}`;
  const staging = `.staging-busybox${tag}-Ab12Cd`;
  const names = [staging, `busybox-0123456789abcdef.ext4.tmp${tag}`, `busybox.json.tmp${tag}`];
  mkdirSync(join(images, staging, 'bin'), { recursive: true });
  writeFileSync(join(images, staging, 'bin', 'busybox'), 'x');
  writeFileSync(join(images, names[1] as string), 'half an image');
  writeFileSync(join(images, names[2] as string), '{');
  const when = (Date.now() - ageMs) / 1000;
  for (const n of names) utimesSync(join(images, n), when, when);
  return names;
}

describe('stale build leftovers', () => {
  it('`image ls` removes those of dead builds and keeps those of a live one', async () => {
    const dead = leftovers(deadPid());
    const live = leftovers(process.pid);
    const r = await cli('image', 'ls');
    expect(r.code).toBe(0);
    for (const n of dead) expect(existsSync(join(images, n)), n).toBe(false);
    for (const n of live) expect(existsSync(join(images, n)), n).toBe(true);
  });

  it('names without a pid are removed once older than an hour', async () => {
    const old = leftovers(undefined, 2 * 60 * 60 * 1000);
    expect((await cli('image', 'ls')).code).toBe(0);
    for (const n of old) expect(existsSync(join(images, n)), n).toBe(false);
    const fresh = leftovers(undefined);
    expect((await cli('image', 'ls')).code).toBe(0);
    for (const n of fresh) expect(existsSync(join(images, n)), n).toBe(true);
  });

  it('`image build` sweeps first, and leaves only the image and its manifest', async () => {
    leftovers(deadPid());
    const r = await cli('image', 'build', 'busybox');
    expect(r.err).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    expect(readdirSync(images).sort()).toEqual([
      expect.stringMatching(/^busybox-[0-9a-f]{16}\.ext4$/),
      'busybox.json',
    ]);
    // Up to date: nothing is rebuilt, and the sweep still runs.
    leftovers(deadPid());
    expect((await cli('image', 'build', 'busybox')).code).toBe(0);
    expect(readdirSync(images)).toHaveLength(2);
  });
});
