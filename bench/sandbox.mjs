#!/usr/bin/env node
// What the sandbox costs (issue 7): boot+poweroff of `umlkit run -- true` and the exec round trip of a
// long-lived machine, sandboxed against `--no-sandbox`, interleaved in the same run on this host.
// Writes bench/results/sandbox.json. Goals: boot ratio ≤ 1.05, exec round trip ≤ +1 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { BIN, interleave, median, printTable, timed, writeResults } from './lib.mjs';

// 40 rounds: one run is ~0.3 s and varies by ±20 ms on this host, more than the effect measured.
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const work = mkdtempSync('/tmp/uks-');
const env = { ...process.env, UMLKIT_STATE_DIR: join(work, 's'), UMLKIT_RUNTIME_DIR: join(work, 'r') };
const { resolvePaths } = await import('../dist/host/paths.js');
const { findImage } = await import('../dist/host/image/images.js');
const lc = await import('../dist/machine/lifecycle.js');
const paths = resolvePaths(env);
await timed(process.execPath, [BIN, 'run', '--', 'true'], { env });
const image = findImage(paths, 'busybox').path;

const runTrue = (extra) => async () => {
  const r = await timed(process.execPath, [BIN, 'run', ...extra, '--', 'true'], { env });
  if (r.code !== 0) throw new Error(`umlkit run failed: ${r.stderr}`);
  return r.ms;
};
// Which of the pair runs first alternates, so neither always follows the other's teardown.
const boot = { sandbox: [], plain: [] };
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ['sandbox', 'plain'] : ['plain', 'sandbox'];
  for (const k of order) boot[k].push(await runTrue(k === 'sandbox' ? [] : ['--no-sandbox'])());
}

// exec round trip through the supervisor and the agent line, library API, two machines side by side.
const spec = (name, sandbox) => ({
  name,
  imagePath: image,
  memoryBytes: 128 * 1024 * 1024,
  disks: [],
  sandbox,
});
lc.createMachine(paths, spec('sbx', true));
lc.createMachine(paths, spec('plain', false));
await lc.startMachine(paths, 'sbx', { env });
await lc.startMachine(paths, 'plain', { env });
const sink = () => new PassThrough().resume();
const execOnce = (name) => async () => {
  const t0 = performance.now();
  const h = await lc.execInMachine(
    paths,
    name,
    { argv: ['true'], env: ['PATH=/bin:/usr/bin'], cwd: '/', tty: false, rows: 0, cols: 0 },
    { stdout: sink(), stderr: sink() },
  );
  const e = await h.exit;
  if (e.code !== 0) throw new Error(`exec failed: ${e.code}`);
  return performance.now() - t0;
};
await interleave(10, { sandbox: execOnce('sbx'), plain: execOnce('plain') });
const exec = await interleave(200, { sandbox: execOnce('sbx'), plain: execOnce('plain') });
for (const name of ['sbx', 'plain']) await lc.removeMachine(paths, name, true);
rmSync(work, { recursive: true, force: true });

// The goal is judged on the paired figure: the median of each round's sandboxed/unsandboxed ratio (both
// runs of a round are back to back, so load drift cancels; the ratio of the two medians is shown too and
// swings by ±8% between runs here).
const bootRatio = median(boot.sandbox.map((x, i) => x / boot.plain[i]));
const ratioOfMedians = median(boot.sandbox) / median(boot.plain);
const execDelta = median(exec.sandbox) - median(exec.plain);
const results = {
  host: 'this host (2 cores, shared)',
  bootPoweroff: {
    sandboxMedianMs: median(boot.sandbox),
    noSandboxMedianMs: median(boot.plain),
    ratio: bootRatio,
    ratioOfMedians,
    goal: '≤ 1.05',
    met: bootRatio <= 1.05,
    rounds,
  },
  execRoundTrip: {
    sandboxMedianMs: median(exec.sandbox),
    noSandboxMedianMs: median(exec.plain),
    deltaMs: execDelta,
    goal: '≤ +1 ms',
    met: execDelta <= 1,
    samples: exec.sandbox.length,
  },
};
const file = writeResults('sandbox', results);
printTable([
  ['benchmark', '--no-sandbox', 'sandbox', 'ratio / delta', 'goal', 'met'],
  [
    `\`umlkit run -- true\` (boot+poweroff), median ratio of ${rounds} paired rounds`,
    `${median(boot.plain).toFixed(0)} ms`,
    `${median(boot.sandbox).toFixed(0)} ms`,
    bootRatio.toFixed(3),
    '≤ 1.05',
    bootRatio <= 1.05 ? 'yes' : 'NO',
  ],
  ['the same, ratio of the two medians', '', '', ratioOfMedians.toFixed(3), '', ''],
  [
    'exec -- true round trip (library), median of 200',
    `${median(exec.plain).toFixed(2)} ms`,
    `${median(exec.sandbox).toFixed(2)} ms`,
    `${execDelta >= 0 ? '+' : ''}${execDelta.toFixed(2)} ms`,
    '≤ +1 ms',
    execDelta <= 1 ? 'yes' : 'NO',
  ],
]);
console.log(`wrote ${file}`);
