#!/usr/bin/env node
// Benchmarks for `umlkit run` (issue: foundation): boot+command+poweroff against a raw kernel boot of
// the same kernel and image, and the guest-stdout throughput of the agent line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, interleave, median, printTable, timed, writeResults } from './lib.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const work = mkdtempSync('/tmp/ukb-');
const env = { ...process.env, UMLKIT_STATE_DIR: join(work, 's'), UMLKIT_RUNTIME_DIR: join(work, 'r') };
const { resolvePaths } = await import('../dist/host/paths.js');
const { resolveKernel } = await import('../dist/host/kernel.js');
const { findImage } = await import('../dist/host/image/images.js');
const { kernelEnv } = await import('../dist/host/kernel-env.js');

// Make sure the image exists (and is warm in the page cache) before timing anything.
await timed(process.execPath, [BIN, 'run', '--', 'true'], { env });
const paths = resolvePaths(env);
const kernel = resolveKernel(undefined, paths, env);
const image = findImage(paths, 'busybox').path;

let n = 0;
// The baseline: the same kernel, boot options, image, memory and overlay scheme, with busybox poweroff as init.
const rawBoot = async () => {
  const cow = join(work, `raw-${n++}.cow`);
  const r = await timed(
    kernel.path,
    [
      `umid=raw${n}`,
      `uml_dir=${work}`,
      'mem=128M',
      `ubd0=${cow},${image}`,
      'root=/dev/ubda',
      'rw',
      'init=/sbin/poweroff',
      '-f',
      'con=null',
      'ssl=null',
      'con0=null,fd:1',
      // The boot options umlkit adds for this kernel on this host (lpj=, seccomp=on), so both sides boot alike.
      ...(kernel.bootArgs ?? []),
    ],
    { env: kernelEnv(kernel.path, '/dev/shm', work), detached: true },
  );
  rmSync(cow, { force: true });
  if (r.code !== 0) throw new Error(`raw boot failed: ${r.code} ${r.stderr}`);
  return r.ms;
};
const umlkitTrue = async () => {
  const r = await timed(process.execPath, [BIN, 'run', '--', 'true'], { env });
  if (r.code !== 0) throw new Error(`umlkit run failed: ${r.stderr}`);
  return r.ms;
};
const samples = await interleave(rounds, { raw: rawBoot, umlkit: umlkitTrue });
const rawMs = median(samples.raw);
const runMs = median(samples.umlkit);

// Throughput: 256 MiB of guest stdout, minus the same run writing nothing.
const MB = 256;
const stream = await interleave(3, {
  big: async () =>
    (await timed(process.execPath, [BIN, 'run', '--', 'dd', 'if=/dev/zero', 'bs=1M', `count=${MB}`], { env }))
      .ms,
  none: umlkitTrue,
});
const transferMs = median(stream.big) - median(stream.none);
const mbPerS = MB / (transferMs / 1000);
// For context: the same bytes through a pipe inside the guest, never leaving it, timed by the guest.
const inGuest = await new Promise((resolve) => {
  let text = '';
  const child = spawn(
    process.execPath,
    [
      BIN,
      'run',
      '--',
      'sh',
      '-c',
      `read a _ < /proc/uptime; dd if=/dev/zero bs=1M count=${MB} 2>/dev/null | cat >/dev/null; read b _ < /proc/uptime; echo $a $b`,
    ],
    { env },
  );
  child.stdout.on('data', (d) => (text += d));
  child.on('close', () => {
    const [a, b] = text.trim().split(' ').map(Number);
    resolve(b - a);
  });
});
const inGuestMbPerS = MB / inGuest;

rmSync(work, { recursive: true, force: true });
const ratio = runMs / rawMs;
const results = {
  kernel: `${kernel.path} (${kernel.version})`,
  rounds,
  boot: {
    rawMedianMs: rawMs,
    umlkitMedianMs: runMs,
    ratio,
    goal: '<= 1.10',
    met: ratio <= 1.1,
    rawSamplesMs: samples.raw,
    umlkitSamplesMs: samples.umlkit,
  },
  stdout: {
    megabytes: MB,
    mbPerSecond: mbPerS,
    goal: '>= 50 MB/s',
    met: mbPerS >= 50,
    inGuestPipeMbPerSecond: inGuestMbPerS,
  },
};
const file = writeResults('run', results);
printTable([
  ['benchmark', 'baseline', 'umlkit', 'ratio / figure', 'goal', 'met'],
  [
    'run -- true vs raw boot+poweroff',
    `${rawMs.toFixed(0)} ms`,
    `${runMs.toFixed(0)} ms`,
    ratio.toFixed(3),
    '<= 1.10',
    ratio <= 1.1 ? 'yes' : 'NO',
  ],
  [
    'guest stdout through the agent line',
    `${inGuestMbPerS.toFixed(0)} MB/s in-guest pipe`,
    `${mbPerS.toFixed(0)} MB/s`,
    `${mbPerS.toFixed(0)} MB/s`,
    '>= 50 MB/s',
    mbPerS >= 50 ? 'yes' : 'NO',
  ],
]);
console.log(`results: ${file}`);
