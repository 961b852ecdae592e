#!/usr/bin/env node
// `npm test`: the whole suite in one command. Installs missing system packages when it can (as root),
// then: lint, type-check, layer check, build, and the unit, host and guest tiers (real UML kernels).
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingPackages, RUNTIME_PACKAGES, TEST_PACKAGES } from './host-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const step = (title, file, args, env = {}) => {
  console.log(`\n== ${title}`);
  const r = spawnSync(file, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  if (r.status !== 0) {
    console.error(`\n${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
};

const missing = missingPackages([...RUNTIME_PACKAGES, ...TEST_PACKAGES]);
if (missing.length > 0) {
  if (process.getuid?.() === 0) {
    console.log(`== installing system packages: ${missing.join(' ')}`);
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-q', ...missing], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } else {
    console.error(
      `missing system packages: ${missing.join(' ')}\ninstall them: sudo apt-get install ${missing.join(' ')}`,
    );
    process.exit(1);
  }
}

step('lint and format (biome)', bin('biome'), ['check', '.']);
step('type-check (library, pure core with no platform types, tests)', process.execPath, [
  join(root, 'node_modules/typescript/bin/tsc'),
  '-p',
  'tsconfig.json',
  '--noEmit',
]);
step('type-check: pure core', process.execPath, [
  join(root, 'node_modules/typescript/bin/tsc'),
  '-p',
  'src/core/tsconfig.json',
]);
step('type-check: tests', process.execPath, [
  join(root, 'node_modules/typescript/bin/tsc'),
  '-p',
  'tsconfig.test.json',
]);
step('layer check', process.execPath, [join(root, 'scripts/check-layers.mjs')]);
step('build', process.execPath, [join(root, 'scripts/build.mjs')]);
step('tests: unit, host and guest tiers', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=./test/summary-reporter.ts',
  ...process.argv.slice(2),
]);
