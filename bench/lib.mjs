// Shared helpers for the benchmarks: timing, medians, interleaved rounds, and the results file.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'umlkit.js');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Run a program to completion; resolves with wall time in ms, exit code and stdout byte count. */
export function timed(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (d) => (bytes += d.length));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, bytes, stderr: err }));
  });
}

/** Interleave configurations round by round (A B A B …) so host noise hits all of them alike. */
export async function interleave(rounds, configs) {
  const samples = Object.fromEntries(Object.keys(configs).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, fn] of Object.entries(configs)) samples[name].push(await fn());
  }
  return samples;
}

export function writeResults(name, results) {
  const file = join(ROOT, 'bench', 'results', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ version: 1, when: new Date().toISOString(), ...results }, null, 2)}\n`,
  );
  return file;
}

export function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(widths[i])).join('  '));
}

/**
 * The kernels umlkit built with the fast profile (`umlkit kernel build`): the latest build of the 6.1 series
 * and the newest series. A profile change makes a new build; older ones stay until `kernel rm`.
 */
export function fastKernels(storedKernels) {
  const built = storedKernels
    .filter((k) => k.manifest?.profile === 'fast' && k.manifest.origin.kind === 'debian')
    .sort((a, b) => b.manifest.builtAt.localeCompare(a.manifest.builtAt));
  const series = (k) => k.manifest.kernelVersion.split('.').slice(0, 2).map(Number);
  const newer = (a, b) => (series(a)[0] - series(b)[0] || series(a)[1] - series(b)[1]) > 0;
  const fast61 = built.find((k) => k.manifest.kernelVersion.startsWith('6.1.'));
  const newest = built.reduce((best, k) => (!best || newer(k, best) ? k : best), undefined);
  return { fast61, newest };
}
