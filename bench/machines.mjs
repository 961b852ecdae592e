#!/usr/bin/env node
// Benchmarks for long-lived machines: exec round trip (library API and CLI), start → ready, and 20
// machines started at once (time until all are ready, host memory PSS per idle machine).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { BIN, median, printTable, timed, writeResults } from './lib.mjs';

const work = mkdtempSync('/tmp/ukm-');
const env = { ...process.env, UMLKIT_STATE_DIR: join(work, 's'), UMLKIT_RUNTIME_DIR: join(work, 'r') };
const { resolvePaths } = await import('../dist/host/paths.js');
const { findImage } = await import('../dist/host/image/images.js');
const lc = await import('../dist/machine/lifecycle.js');
const paths = resolvePaths(env);
await timed(process.execPath, [BIN, 'image', 'build', 'busybox'], { env });
const image = findImage(paths, 'busybox').path;
const spec = (name) => ({ name, imagePath: image, memoryBytes: 128 * 1024 * 1024, disks: [] });

// exec round trip
lc.createMachine(paths, spec('bench'));
const startMs = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await lc.startMachine(paths, 'bench', { env });
  startMs.push(performance.now() - t0);
  if (i < 2) await lc.killMachine(paths, 'bench');
}
const sink = () => new PassThrough().resume();
const execOnce = async () => {
  const t0 = performance.now();
  const h = await lc.execInMachine(
    paths,
    'bench',
    { argv: ['true'], env: ['PATH=/bin:/usr/bin'], cwd: '/', tty: false, rows: 0, cols: 0 },
    { stdout: sink(), stderr: sink() },
  );
  const e = await h.exit;
  if (e.code !== 0) throw new Error(`exec failed: ${e.code}`);
  return performance.now() - t0;
};
for (let i = 0; i < 10; i++) await execOnce();
const execLib = [];
for (let i = 0; i < 200; i++) execLib.push(await execOnce());
const execCli = [];
for (let i = 0; i < 20; i++)
  execCli.push(
    (
      await timed(process.execPath, [BIN, 'exec', 'bench', '--', 'true'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    ).ms,
  );
// For context: fork+exec+wait of /bin/true by the guest's own shell, 100 times, timed with /proc/uptime.
const inGuest = await new Promise((resolve) => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  lc.execInMachine(
    paths,
    'bench',
    {
      argv: [
        'sh',
        '-c',
        'read a _ < /proc/uptime; i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done; read b _ < /proc/uptime; echo $a $b',
      ],
      env: ['PATH=/bin:/usr/bin'],
      cwd: '/',
      tty: false,
      rows: 0,
      cols: 0,
    },
    { stdout: out, stderr: sink() },
  )
    .then((h) => h.exit)
    .then(() => {
      const [a, b] = text.trim().split(' ').map(Number);
      resolve(((b - a) * 1000) / 100);
    });
});
await lc.removeMachine(paths, 'bench', true);

// 20 at once
const N = Number(process.env.BENCH_MACHINES ?? 20);
const names = Array.from({ length: N }, (_, i) => `m${i}`);
for (const n of names) lc.createMachine(paths, spec(n));
const t0 = performance.now();
const readyAt = await Promise.all(
  names.map((n) => lc.startMachine(paths, n, { env, timeoutMs: 120_000 }).then(() => performance.now() - t0)),
);
const allReadyMs = Math.max(...readyAt);
await new Promise((r) => setTimeout(r, 3000));
// Every process of a machine descends from the recorded kernel pid (in the sandbox that is its
// launcher). UML's helper processes share their parent's address space (clone with CLONE_VM), so each
// reports the same PSS: count every address space once (identical /proc/PID/maps means the same mm).
const parents = () => {
  const map = new Map();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      map.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  return map;
};
const pssOfTree = (root) => {
  const ppid = parents();
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of ppid) {
      if (tree.has(parent) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  const seen = new Set();
  let kb = 0;
  for (const pid of tree) {
    try {
      const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
      if (seen.has(maps)) continue;
      seen.add(maps);
      const m = /Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {}
  }
  return kb / 1024;
};
const pss = names.map((n) => pssOfTree(lc.inspectMachine(paths, n).state.kernel.pid));
await Promise.all(names.map((n) => lc.removeMachine(paths, n, true)));
rmSync(work, { recursive: true, force: true });

const results = {
  execRoundTrip: {
    libraryMedianMs: median(execLib),
    cliMedianMs: median(execCli),
    goal: 'library <= 5 ms median',
    met: median(execLib) <= 5,
    inGuestForkExecMs: inGuest,
    samples: execLib.length,
  },
  startToReady: { medianMs: median(startMs), samplesMs: startMs },
  concurrent: {
    machines: N,
    allReadyMs,
    medianReadyMs: median(readyAt),
    pssMiBPerMachine: median(pss),
    pssMiB: pss,
    goals: { pssMiB: '<= 30', allReadyMs: '<= 8000' },
    met: { pss: median(pss) <= 30, allReady: allReadyMs <= 8000 },
  },
};
const file = writeResults('machines', results);
printTable([
  ['benchmark', 'figure', 'context', 'goal', 'met'],
  [
    'exec -- true, library API (median of 200)',
    `${median(execLib).toFixed(1)} ms`,
    `guest fork+exec of /bin/true alone: ${inGuest.toFixed(1)} ms`,
    '<= 5 ms',
    median(execLib) <= 5 ? 'yes' : 'NO',
  ],
  [
    'exec -- true, CLI (median of 20)',
    `${median(execCli).toFixed(0)} ms`,
    'includes node start-up',
    '-',
    '-',
  ],
  [
    'start → ready (median of 3)',
    `${median(startMs).toFixed(0)} ms`,
    `kernel ${process.env.UMLKIT_KERNEL ?? 'default'}`,
    '-',
    '-',
  ],
  [
    `${N} machines started at once: all ready`,
    `${(allReadyMs / 1000).toFixed(1)} s`,
    `median ${(median(readyAt) / 1000).toFixed(1)} s`,
    '<= 8 s',
    allReadyMs <= 8000 ? 'yes' : 'NO',
  ],
  [
    'host memory (PSS) per idle machine',
    `${median(pss).toFixed(1)} MiB`,
    `${N} machines running`,
    '<= 30 MiB',
    median(pss) <= 30 ? 'yes' : 'NO',
  ],
]);
console.log(`results: ${file}`);
