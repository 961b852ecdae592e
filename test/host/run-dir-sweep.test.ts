// The sweep of stale run dirs, which every `umlkit run` does while other runs start and end beside it.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { currentProcessIdentity } from '../../src/host/process-identity.ts';
import { sweepStaleRunDirs } from '../../src/host/run-dir.ts';

const root = mkdtempSync(join(tmpdir(), 'uksweep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('removes dirs of dead owners and old ownerless ones, keeps young ones, and skips one that vanished', () => {
  const dead = join(root, 'run-dead');
  mkdirSync(dead);
  // pid 2^22 + 1 is above any pid_max default: never alive.
  writeFileSync(
    join(dead, 'owner.json'),
    JSON.stringify({ version: 1, owner: { pid: 4194305, startTime: 1 } }),
  );
  const old = join(root, 'run-old');
  mkdirSync(old);
  utimesSync(old, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  const young = join(root, 'run-young');
  mkdirSync(young);
  // Listed, then gone before it is looked at: its run removed it as it ended.
  symlinkSync(join(root, 'nowhere'), join(root, 'run-gone'));
  const mine = join(root, 'run-alive');
  mkdirSync(mine);
  writeFileSync(join(mine, 'owner.json'), JSON.stringify({ version: 1, owner: currentProcessIdentity() }));
  expect(sweepStaleRunDirs(root).sort()).toEqual([dead, old].sort());
  expect(existsSync(young)).toBe(true);
  expect(existsSync(mine)).toBe(true);
});
