#!/usr/bin/env node
// Benchmarks for `umlkit run` (issue: foundation): boot+command+poweroff against raw kernel boots of the
// same kernel and image (the plain command line, and with umlkit's boot options), umlkit's fixed cost and
// where it goes (a traced run), and the guest-stdout throughput of the agent line.
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
// The baselines: the same kernel, image, memory and overlay scheme, with busybox poweroff as init, started
// from this process like umlkit. `plain` is the command line a user would type; `trimmed` adds the boot
// options umlkit passes this kernel on this host (lpj=, boot trims, seccomp=on: src/host/kernel-boot-args.ts),
// so `umlkit - trimmed` is what umlkit itself costs. Both get the kernel environment umlkit gives (TMPDIR
// on tmpfs for guest RAM; the XSAVE shim for a dynamic kernel, without which it dies on this CPU).
const rawBoot = (bootArgs) => async () => {
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
      ...bootArgs,
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
// Where a run's time goes: the same command with UMLKIT_TRACE=1 (ms since Node's start, src/host/run-trace.ts).
const PHASES = [
  ['node', 'node started', 'Node start (before any umlkit code)'],
  ['modules', 'run command loaded', 'loading the CLI and run modules'],
  ['prepare', 'launch prepared', 'kernel, image, checks, locks, overlay, sandbox set-up'],
  ['spawn', 'spawned', 'spawning bwrap'],
  ['boot', 'hello', "sandbox + kernel boot to the agent's hello"],
  ['command', 'command exited', 'exec of true in the guest and its exit status'],
  ['powerOff', 'kernel exited', 'power-off: agent sync/unmount, kernel exit, group reaped'],
  ['teardown', 'exit', 'locks, run dir, Node exit handlers'],
];
const traced = async () => {
  const r = await timed(process.execPath, [BIN, 'run', '--', 'true'], { env: { ...env, UMLKIT_TRACE: '1' } });
  if (r.code !== 0) throw new Error(`umlkit run failed: ${r.stderr}`);
  const marks = new Map();
  for (const m of r.stderr.matchAll(/^umlkit-trace ([\d.]+) (.+)$/gm)) marks.set(m[2], Number(m[1]));
  let prev = 0;
  const phases = {};
  for (const [key, mark] of PHASES) {
    const t = marks.get(mark);
    if (t === undefined) throw new Error(`no trace mark ${mark} in: ${r.stderr}`);
    phases[key] = t - prev;
    prev = t;
  }
  // What the parent sees beyond Node's own clock: exec before Node's time origin, process exit after.
  phases.exit = r.ms - prev;
  return phases;
};
const nodeStart = async () => (await timed(process.execPath, ['-e', '0'], { env })).ms;
// Node 20 reads NODE_EXTRA_CA_CERTS at start-up, before any script (22 and 24 defer it): where it is set,
// Node's start without it is shown too, to tell the host's setting from Node's own cost.
const { NODE_EXTRA_CA_CERTS: extraCa, ...envWithoutCa } = env;
const nodeStartBare = async () => (await timed(process.execPath, ['-e', '0'], { env: envWithoutCa })).ms;
const samples = await interleave(rounds, {
  plain: rawBoot([]),
  trimmed: rawBoot(kernel.bootArgs ?? []),
  umlkit: umlkitTrue,
  traced,
  node: nodeStart,
  ...(extraCa !== undefined ? { nodeBare: nodeStartBare } : {}),
});
const plainMs = median(samples.plain);
const rawMs = median(samples.trimmed);
const runMs = median(samples.umlkit);
const nodeMs = median(samples.node);
const nodeBareMs = samples.nodeBare ? median(samples.nodeBare) : undefined;
const phaseMs = Object.fromEntries(
  [...PHASES.map(([k]) => k), 'exit'].map((k) => [k, median(samples.traced.map((p) => p[k]))]),
);
const fixedMs = runMs - rawMs;

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
const plainRatio = runMs / plainMs;
const results = {
  kernel: `${kernel.path} (${kernel.version})`,
  bootArgs: kernel.bootArgs ?? [],
  nodeVersion: process.version,
  nodeExtraCaCerts: extraCa !== undefined,
  rounds,
  boot: {
    plainRawMedianMs: plainMs,
    rawMedianMs: rawMs,
    umlkitMedianMs: runMs,
    ratio,
    ratioVsPlain: plainRatio,
    goal: '<= 1.10',
    met: ratio <= 1.1,
    plainRawSamplesMs: samples.plain,
    rawSamplesMs: samples.trimmed,
    umlkitSamplesMs: samples.umlkit,
  },
  fixedCost: {
    ms: fixedMs,
    nodeStartMs: nodeMs,
    ...(nodeBareMs !== undefined ? { nodeStartWithoutExtraCaCertsMs: nodeBareMs } : {}),
    tracedPhasesMedianMs: phaseMs,
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
const ms = (x) => `${x.toFixed(0)} ms`;
printTable([
  ['benchmark', 'baseline', 'umlkit', 'ratio / figure', 'goal', 'met'],
  [
    'run -- true vs raw boot+poweroff, plain command line',
    ms(plainMs),
    ms(runMs),
    plainRatio.toFixed(3),
    '<= 1.10',
    plainRatio <= 1.1 ? 'yes' : 'NO',
  ],
  [
    "run -- true vs raw boot+poweroff, umlkit's boot options",
    ms(rawMs),
    ms(runMs),
    ratio.toFixed(3),
    '<= 1.10',
    ratio <= 1.1 ? 'yes' : 'NO',
  ],
  [
    "umlkit's fixed cost (run - raw with its options)",
    `node -e 0: ${ms(nodeMs)}`,
    ms(fixedMs),
    `${ms(fixedMs - nodeMs)} beyond Node start`,
    '',
    '',
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
if (nodeBareMs !== undefined) {
  console.log(`(node -e 0 without NODE_EXTRA_CA_CERTS, which Node 20 loads at start: ${ms(nodeBareMs)})`);
}
console.log('');
console.log(`where a traced run -- true spends its time (medians of ${rounds}):`);
printTable([
  ['phase', 'ms', 'what'],
  ...PHASES.map(([k, , what]) => [k, phaseMs[k].toFixed(1), what]),
  ['exit', phaseMs.exit.toFixed(1), 'exec before Node starts its clock, process exit, seen by the parent'],
]);
console.log(`results: ${file}`);
