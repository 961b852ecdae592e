#!/usr/bin/env node
// Copies the freshly built native pieces into native/prebuilt/ (with the hash of the source they came
// from), so machines without gcc can still install umlkit. A test fails when these go stale.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'native', 'prebuilt');
mkdirSync(dir, { recursive: true });
for (const name of [
  'umlkit-agent',
  'fpfix.so',
  'udg.node',
  'fileio.node',
  'mapmerge.node',
  'umlkit-jail',
  'switchpath.node',
]) {
  copyFileSync(join(root, 'dist', 'native', name), join(dir, name));
  writeFileSync(join(dir, `${name}.sha256`), readFileSync(join(root, 'dist', 'native', `${name}.sha256`)));
}
console.log(`refreshed ${dir}`);
