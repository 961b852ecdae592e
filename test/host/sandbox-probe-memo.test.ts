// The memo of sandbox probes: what is remembered, for which file, and what is never trusted.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { sharedLibraries } from '../../src/host/sandbox/libraries.ts';
import { fileIdentity, recall, remember } from '../../src/host/sandbox/probe-memo.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'ukmemo-'));
  dirs.push(d);
  return d;
};
const isNumber = (v: unknown): v is number => typeof v === 'number';

it('recalls what was remembered, keeps the newest 32, and shrugs off a damaged file', () => {
  const file = join(tmp(), 'sub', 'sandbox-probes.json');
  expect(recall(file, 'a', isNumber)).toBeUndefined();
  for (let i = 0; i < 40; i++) remember(file, `k${i}`, i);
  expect(recall(file, 'k39', isNumber)).toBe(39);
  expect(recall(file, 'k8', isNumber)).toBe(8);
  expect(recall(file, 'k7', isNumber)).toBeUndefined(); // the oldest went first
  expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).entries)).toHaveLength(32);
  expect(recall(file, 'k39', (v): v is string => typeof v === 'string')).toBeUndefined();
  writeFileSync(file, '{not json');
  expect(recall(file, 'k39', isNumber)).toBeUndefined();
  remember(file, 'again', 1);
  expect(recall(file, 'again', isNumber)).toBe(1);
});

it('a kernel’s libraries come from ldd once, then from the memo while the binary and its libraries stay', () => {
  const d = tmp();
  const memo = join(d, 'sandbox-probes.json');
  const program = join(d, 'prog');
  copyFileSync('/bin/ls', program);
  const libs = sharedLibraries(program, memo);
  expect(libs.some((l) => l.includes('libc.so'))).toBe(true);
  const saved = JSON.parse(readFileSync(memo, 'utf8')).entries;
  expect(Object.values(saved)).toEqual([libs]);
  // Another binary whose memo entry names a library that does not exist: the memo is not trusted.
  const other = join(d, 'other');
  copyFileSync('/bin/ls', other);
  remember(memo, `ldd\0${other}\0${fileIdentity(other)}`, ['/nonexistent/libc.so.6']);
  expect(sharedLibraries(other, memo)).toEqual(libs);
});
