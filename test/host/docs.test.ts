// docs/errors.md documents every error code, and the README's two commands stay what CI runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.ts';

const root = join(import.meta.dirname, '..', '..');

it('docs/errors.md has a section for every error code', () => {
  const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
  const missing = ERROR_CODES.filter((code) => !doc.includes(`### ${code}\n`));
  expect(missing).toEqual([]);
});

it('.ci/run calls exactly the test command the README gives', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n(.*)\n```/g)].map((m) => m[1]);
  expect(blocks.slice(0, 2)).toEqual(['npm ci && npx umlkit demo', 'npm ci && npm test']);
  expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(/\nnpm ci && npm test\n/);
});
