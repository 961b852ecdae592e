// The console logs failed runs leave in `<state>/logs/`: each copy is where the error says, and the
// directory keeps only the newest KEPT_RUN_LOGS of them.
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { resolvePaths } from '../../src/host/paths.ts';
import { KEPT_RUN_LOGS, preserveRunLog, runLogPath, runLogsDir } from '../../src/host/run-logs.ts';
import { tempDir } from '../helpers/cow-files.ts';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir('umlkit-logs-');
});
afterEach(() => t.cleanup());

const paths = () =>
  resolvePaths({
    HOME: t.dir,
    UMLKIT_STATE_DIR: join(t.dir, 'state'),
    UMLKIT_RUNTIME_DIR: join(t.dir, 'rt'),
  });

it('keeps the newest logs and leaves other files alone', () => {
  const p = paths();
  const console = join(t.dir, 'console.log');
  const ids: string[] = [];
  for (let i = 0; i < KEPT_RUN_LOGS + 5; i++) {
    const id = `run-${i.toString(16).padStart(8, '0')}`;
    writeFileSync(console, `boot ${i}\n`);
    expect(preserveRunLog(p, id, console)).toBe(runLogPath(p, id));
    // Distinct, increasing mtimes (copies made within one clock tick would tie).
    const when = 1_700_000_000 + i;
    utimesSync(runLogPath(p, id), when, when);
    ids.push(id);
  }
  writeFileSync(join(runLogsDir(p), 'notes.txt'), 'mine');
  writeFileSync(console, 'last\n');
  preserveRunLog(p, 'run-ffffffff', console);

  const kept = readdirSync(runLogsDir(p)).filter((n) => n.endsWith('.console.log'));
  expect(kept).toHaveLength(KEPT_RUN_LOGS);
  expect(readFileSync(runLogPath(p, 'run-ffffffff'), 'utf8')).toBe('last\n');
  // The oldest went first; the newest of the earlier ones stayed.
  for (const id of ids.slice(0, 6)) expect(existsSync(runLogPath(p, id)), id).toBe(false);
  for (const id of ids.slice(6)) expect(existsSync(runLogPath(p, id)), id).toBe(true);
  expect(existsSync(join(runLogsDir(p), 'notes.txt'))).toBe(true);
});

it('the logs directory is private to the user', () => {
  const p = paths();
  const console = join(t.dir, 'console.log');
  writeFileSync(console, 'x');
  preserveRunLog(p, 'run-00000001', console);
  expect(readdirSync(runLogsDir(p))).toEqual(['run-00000001.console.log']);
  expect(statSync(runLogsDir(p)).mode & 0o777).toBe(0o700);
});
