// The prebuilt native pieces (for hosts without gcc) must come from the sources in the tree.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const sha = (p: string): string =>
  createHash('sha256')
    .update(readFileSync(join(root, p)))
    .digest('hex');

it.each([
  ['umlkit-agent', 'native/agent/agent.c'],
  ['fpfix.so', 'native/fpfix/fpfix.c'],
  ['udg.node', 'native/udg/udg.c'],
  ['fileio.node', 'native/fileio/fileio.c'],
  ['mapmerge.node', 'native/mapmerge/mapmerge.c'],
  ['umlkit-jail', 'native/jail/jail.c'],
  ['switchpath.node', 'native/switchpath/switchpath.c'],
])(
  'native/prebuilt/%s is built from the current %s (else run `npm run build && node scripts/refresh-prebuilt.mjs`)',
  (name, source) => {
    expect(readFileSync(join(root, 'native/prebuilt', `${name}.sha256`), 'utf8')).toBe(sha(source));
  },
);
