// Merge in place: guard rails (mismatch, in use, bad headers), and what an interruption at any point leaves.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUmlError, type UmlError } from '../../src/core/errors.ts';
import { commitOverlay } from '../../src/host/cow/commit.ts';
import { createOverlay } from '../../src/host/cow/create.ts';
import { diffOverlay } from '../../src/host/cow/diff.ts';
import { inspectOverlay } from '../../src/host/cow/inspect.ts';
import { mergeOverlay } from '../../src/host/cow/merge.ts';
import { journalPath } from '../../src/host/cow/merge-journal.ts';
import { rebaseOverlay } from '../../src/host/cow/rebase.ts';
import { acquireDiskLocks } from '../../src/host/disk-lock.ts';
import { currentProcessIdentity } from '../../src/host/process-identity.ts';
import {
  holdPosixLock,
  makeBase,
  mtimeOf,
  rng,
  sh,
  sha256,
  tempDir,
  UML_MOO,
  writeSectors,
} from '../helpers/cow-files.ts';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

async function failure(p: Promise<unknown> | (() => unknown)): Promise<UmlError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isUmlError(e)) return e;
    throw e;
  }
  throw new Error('expected a UmlError');
}

const SIZE = 8 << 20;

/** Base + overlay; `pattern` 'runs' writes runs, 'scattered' every third sector (forces the rewrite path). */
function setup(pattern: 'runs' | 'scattered' = 'runs'): { base: string; overlay: string; reference: string } {
  const base = join(t.dir, 'base.img');
  const overlay = join(t.dir, 'o.cow');
  makeBase(base, SIZE);
  createOverlay(overlay, base);
  const r = rng(3);
  const dirty: number[] = [];
  for (let s = 0; s < SIZE / 512; s++) {
    if (pattern === 'scattered' ? s % 3 === 0 : Math.floor(s / 16) % 5 === 0 && r() < 0.9) dirty.push(s);
  }
  writeSectors(overlay, dirty);
  const reference = join(t.dir, 'reference.img');
  sh(UML_MOO, [overlay, reference]);
  return { base, overlay, reference };
}

describe('cow merge', () => {
  it.each(['runs', 'scattered'] as const)('merges %s sectors to the bytes of uml_moo', async (pattern) => {
    const { base, overlay, reference } = setup(pattern);
    const r = await mergeOverlay(overlay);
    expect(sha256(base)).toBe(sha256(reference));
    expect(existsSync(journalPath(overlay))).toBe(false);
    expect(r.resumed).toBe(false);
  });

  it('keeps the holes of a sparse base when it rewrites whole windows', async () => {
    const base = join(t.dir, 'sparse.img');
    writeFileSync(base, '');
    sh('truncate', ['-s', '32M', base]);
    utimesSync(base, 1_700_000_000, 1_700_000_000);
    const overlay = join(t.dir, 's.cow');
    createOverlay(overlay, base);
    // Every third sector of the first MiB only: one dense window.
    writeSectors(
      overlay,
      Array.from({ length: 683 }, (_, i) => i * 3),
    );
    await mergeOverlay(overlay);
    expect(statSync(base).blocks * 512).toBeLessThanOrEqual(1 << 20);
  });

  it('refuses a base that changed after the overlay was made, says why and how to recover, writes nothing', async () => {
    const { base, overlay } = setup();
    utimesSync(base, 1_800_000_000, 1_800_000_000);
    const hash = sha256(base);
    const e = await failure(mergeOverlay(overlay));
    expect(e.code).toBe('COW_MISMATCH');
    expect(e.message).toContain('changed after the overlay was made');
    expect(e.message).toContain('2027-01-15T08:00:00Z');
    expect(e.hint).toContain('touch -d @1700000000');
    expect(sha256(base)).toBe(hash);
    // Size: a base that grew.
    sh('truncate', ['-s', `${SIZE + 512}`, base]);
    const e2 = await failure(mergeOverlay(overlay));
    expect(e2.code).toBe('COW_MISMATCH');
    expect(e2.message).toContain(`its size is ${SIZE + 512} bytes, the overlay recorded ${SIZE}`);
  });

  it('refuses while a machine holds the overlay or the base, naming the machine', async () => {
    const { base, overlay } = setup();
    const stateDir = join(t.dir, 'state');
    const hash = sha256(base);
    for (const [path, mode] of [
      [overlay, 'rw'],
      [base, 'ro'],
    ] as const) {
      const release = acquireDiskLocks(stateDir, [{ path, mode }], {
        ...currentProcessIdentity(),
        machine: 'web1',
      });
      try {
        const e = await failure(mergeOverlay(overlay, { stateDir }));
        expect(e.code).toBe('COW_IN_USE');
        expect(e.message).toContain('machine `web1`');
        expect(e.hint).toContain('web1');
        // The other verbs that must not run under a machine refuse too.
        if (path === overlay) {
          expect((await failure(commitOverlay(overlay, join(t.dir, 'x.img'), { stateDir }))).code).toBe(
            'COW_IN_USE',
          );
          expect((await failure(() => rebaseOverlay(overlay, base, { stateDir }))).code).toBe('COW_IN_USE');
        }
      } finally {
        release();
      }
    }
    expect(sha256(base)).toBe(hash);
    await mergeOverlay(overlay, { stateDir });
  });

  it('refuses a base held by a running process (a UML kernel holds a POSIX lock)', async () => {
    const { base, overlay } = setup();
    const holder = await holdPosixLock(base, 'read');
    try {
      const e = await failure(mergeOverlay(overlay));
      expect(e.code).toBe('COW_IN_USE');
      expect(e.message).toContain(`process ${holder.pid} (perl, POSIX read lock)`);
    } finally {
      holder.release();
    }
  });

  it('an interruption before any window leaves the base untouched or resumable, at every window', async () => {
    const { base, overlay, reference } = setup('runs');
    const pristine = join(t.dir, 'pristine.img');
    copyFileSync(base, pristine);
    sh('touch', ['-r', base, pristine]);
    const windows = Math.ceil(SIZE / (1 << 20));
    for (let k = 0; k <= windows; k++) {
      copyFileSync(pristine, base);
      sh('touch', ['-r', pristine, base]);
      let interrupted = false;
      try {
        await mergeOverlay(overlay, {
          beforeWindow: (i) => {
            if (i === k) {
              interrupted = true;
              throw new Error('simulated interruption');
            }
          },
        });
      } catch (e) {
        expect((e as Error).message).toBe('simulated interruption');
      }
      if (!interrupted) {
        expect(sha256(base)).toBe(sha256(reference));
        continue;
      }
      // Interrupted: the journal says so, the other verbs refuse with the way out, the overlay is unchanged.
      expect(existsSync(journalPath(overlay))).toBe(true);
      expect(inspectOverlay(overlay).mergeInterrupted).toBe(true);
      expect((await failure(commitOverlay(overlay, join(t.dir, 'c.img')))).code).toBe('COW_MERGE_INCOMPLETE');
      expect((await failure(() => diffOverlay(overlay))).code).toBe('COW_MERGE_INCOMPLETE');
      // Running merge again finishes it, to the same bytes.
      const r = await mergeOverlay(overlay);
      expect(r.resumed).toBe(true);
      expect(sha256(base)).toBe(sha256(reference));
      expect(existsSync(journalPath(overlay))).toBe(false);
    }
  });

  // Runs the built library (dist/, made by `node scripts/build.mjs`): Node 20 cannot import .ts by itself.
  const built = new URL('../../dist/host/cow/merge.js', import.meta.url).pathname;
  // On a disk (1 MiB windows, the addon's copy) and on tmpfs (64 MiB windows, the mapped merge): the kill
  // comes after a few windows, while a pause holds the next one.
  it.skipIf(!existsSync(built)).each([
    { fs: 'a disk', on: undefined, at: 3, engine: 'addon' },
    { fs: 'tmpfs', on: '/dev/shm', at: 1, engine: 'mapped' },
  ])(
    'on $fs, a merge killed with SIGKILL part-way is finished by running merge again',
    async ({ on, at, engine }) => {
      if (on) {
        t.cleanup();
        t = tempDir('umlkit-cow-', on);
      }
      const base = join(t.dir, 'base.img');
      const overlay = join(t.dir, 'o.cow');
      makeBase(base, 256 << 20);
      createOverlay(overlay, base);
      writeSectors(
        overlay,
        Array.from({ length: 40_000 }, (_, i) => i * 13),
      );
      const reference = join(t.dir, 'reference.img');
      sh(UML_MOO, [overlay, reference]);
      const script = `import { mergeOverlay } from ${JSON.stringify(built)};
      await mergeOverlay(${JSON.stringify(overlay)}, { beforeWindow: (i) => {
        if (i === ${at}) process.stdout.write('go\\n');
        // From then on, pause between windows so the kill surely lands mid-merge.
        if (i >= ${at}) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      } });`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const closed = new Promise((r) => child.on('close', r));
      let output = '';
      child.stderr.on('data', (d) => (output += d));
      const started = await new Promise<boolean>((resolve) => {
        child.stdout.on('data', () => resolve(true));
        child.on('exit', () => resolve(false));
      });
      child.kill('SIGKILL');
      await closed;
      expect(started, output).toBe(true);
      // Killed after window 3 began: the base is part merged and the journal is there.
      expect(existsSync(journalPath(overlay))).toBe(true);
      expect(sha256(base)).not.toBe(sha256(reference));
      const r = await mergeOverlay(overlay);
      expect(r.resumed).toBe(true);
      expect(r.engine).toBe(engine);
      expect(sha256(base)).toBe(sha256(reference));
    },
  );

  it('makes every other overlay of the base stop matching, even within the same second', async () => {
    const { base, overlay } = setup();
    const now = Math.floor(Date.now() / 1000);
    utimesSync(base, now, now);
    const first = join(t.dir, 'first.cow');
    const other = join(t.dir, 'other.cow');
    // Re-make the overlays over the re-timed base.
    sh('rm', [overlay]);
    createOverlay(first, base);
    createOverlay(other, base);
    writeSectors(first, [1, 2, 3]);
    await mergeOverlay(first);
    expect(mtimeOf(base)).not.toBe(now);
    expect(inspectOverlay(other).base.status).toBe('mtime-mismatch');
    expect((await failure(commitOverlay(other, join(t.dir, 'x.img')))).code).toBe('COW_MISMATCH');
  });

  it('with nothing written, leaves the base exactly as it was', async () => {
    const base = join(t.dir, 'base.img');
    makeBase(base, 1 << 20);
    createOverlay(join(t.dir, 'e.cow'), base);
    const before = statSync(base).mtimeMs;
    const r = await mergeOverlay(join(t.dir, 'e.cow'));
    expect(r.sectors).toBe(0);
    expect(statSync(base).mtimeMs).toBe(before);
  });
});
