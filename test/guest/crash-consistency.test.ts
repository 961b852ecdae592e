// kill -9 during heavy writes, 20 cycles as the unprivileged user (scripts/soak.mjs; `npm run soak` runs
// 300): the base stays byte-identical, data disk and overlay are clean after journal replay, no leftovers.
import { spawnSync } from 'node:child_process';
import { expect, inject, it } from 'vitest';
import { ensureTestUser, REPO } from '../helpers/umlkit-cli.ts';

const CYCLES = Number(process.env.UMLKIT_SOAK_CYCLES ?? 20);

it(`${CYCLES} kill -9 cycles during heavy writes: 0 corrupt, base unchanged, nothing left`, {
  timeout: CYCLES * 20_000,
}, () => {
  const user = ensureTestUser();
  const env = ['PATH=/usr/bin:/bin', `UMLKIT_CACHE_DIR=${inject('cacheDir')}`];
  const soak = [process.execPath, `${REPO}/scripts/soak.mjs`, '--cycles', String(CYCLES), '--json'];
  const r = user
    ? spawnSync('runuser', ['-u', user, '--', 'env', '-i', ...env, ...soak], {
        encoding: 'utf8',
        cwd: '/tmp',
      })
    : spawnSync(soak[0] as string, soak.slice(1), { encoding: 'utf8' });
  const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  expect(result).toMatchObject({
    cycles: CYCLES,
    corruptData: 0,
    corruptOverlay: 0,
    hangs: 0,
    baseUnchanged: true,
    leftoverProcesses: 0,
    leftoverRunDirs: 0,
    leftoverLocks: 0,
  });
  expect(r.status).toBe(0);
});
