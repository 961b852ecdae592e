#!/usr/bin/env node
// COW benchmarks against uml-utilities, measured in one run on this host: overlay creation (64 MiB and
// 8 GiB bases), in-place merge of a 1 GiB base with 10% of its sectors written (two patterns), and commit.
// Runs the built library (dist/; `node scripts/build.mjs`). Writes bench/results/cow.json.
// Set UMLKIT_BENCH_DIR to choose where the multi-GiB scratch files go (default: the OS temp dir).
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statfsSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'dist', p);
const { createOverlay } = await import(dist('host/cow/create.js'));
const { mergeOverlay } = await import(dist('host/cow/merge.js'));
const { commitOverlay } = await import(dist('host/cow/commit.js'));

const RUNS = Number(process.env.UMLKIT_BENCH_RUNS ?? 3);
const GiB = 2 ** 30;
const work = mkdtempSync(join(process.env.UMLKIT_BENCH_DIR ?? tmpdir(), 'umlkit-bench-cow-'));
const sh = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const timeAsync = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

function makeBase(path, size) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let off = 0; off < size; off += chunk.length) {
    chunk.writeUInt32LE(off / chunk.length, 0);
    writeSync(fd, chunk, 0, Math.min(chunk.length, size - off), off);
  }
  closeSync(fd);
  utimesSync(path, 1_700_000_000, 1_700_000_000);
}

/** An overlay with 10% of sectors written: 'blocks' = random 4 KiB blocks (what a guest filesystem writes), 'sectors' = random single sectors (worst case). */
function makeDirtyOverlay(path, base, size, pattern) {
  createOverlay(path, base);
  const fd = openSync(path, 'r+');
  const head = Buffer.alloc(64);
  readSync(fd, head, 0, 64, 0);
  const sectors = size / 512;
  const bitmapOffset = 8192;
  const bitmap = Buffer.alloc(Math.ceil(sectors / 8));
  const dataOffset = Math.ceil((bitmapOffset + bitmap.length) / 4096) * 4096;
  let x = 12345;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const block = Buffer.alloc(4096, 0xab);
  let dirty = 0;
  if (pattern === 'blocks') {
    for (let b = 0; b < sectors / 8; b++) {
      if (rnd() >= 0.1) continue;
      bitmap[b] = 0xff;
      block.writeUInt32LE(b, 0);
      writeSync(fd, block, 0, 4096, dataOffset + b * 4096);
      dirty += 8;
    }
  } else {
    for (let s = 0; s < sectors; s++) {
      if (rnd() >= 0.1) continue;
      bitmap[s >> 3] |= 1 << (s & 7);
      block.writeUInt32LE(s, 0);
      writeSync(fd, block, 0, 512, dataOffset + s * 512);
      dirty++;
    }
  }
  writeSync(fd, bitmap, 0, bitmap.length, bitmapOffset);
  closeSync(fd);
  return dirty;
}

const freshCopy = (from, to) => {
  sh('cp', ['--preserve=timestamps', from, to]);
  sh('sync', []);
};

/**
 * Where the 1 GiB figures are measured: the scratch dir (a real disk, where both tools pay the device and
 * ours also its fsync), and /dev/shm (tmpfs: no device, so only the copying itself is compared).
 */
function scratchDirs() {
  const dirs = [['disk', work]];
  try {
    if (
      statfsSync('/dev/shm').bavail * statfsSync('/dev/shm').bsize > 4 * GiB &&
      work.startsWith('/dev/shm') === false
    ) {
      dirs.push(['tmpfs', mkdtempSync('/dev/shm/umlkit-bench-cow-')]);
    }
  } catch {}
  return dirs;
}

async function mergeAndCommit(where, dir) {
  try {
    const size = GiB;
    const base = join(dir, 'base.img');
    makeBase(base, size);
    for (const pattern of ['blocks', 'sectors']) {
      const overlay = join(dir, `o-${pattern}.cow`);
      const dirty = makeDirtyOverlay(overlay, base, size, pattern);
      const target = join(dir, 'target.img');
      const ours = [];
      const moo = [];
      const mooSync = [];
      for (let i = 0; i < RUNS; i++) {
        freshCopy(base, target);
        ours.push(await timeAsync(() => mergeOverlay(overlay, { basePath: target })));
        freshCopy(base, target);
        // uml_moo does not flush; ours fsyncs before it removes its journal. Time both without and with a flush.
        const t0 = performance.now();
        sh('uml_moo', ['-d', '-b', target, overlay]);
        const t1 = performance.now();
        sh('sync', ['-d', target]);
        moo.push(t1 - t0);
        mooSync.push(performance.now() - t0);
      }
      const mib = size / 2 ** 20;
      const fig = {
        dirtySectors: dirty,
        oursMs: median(ours),
        umlMooMs: median(moo),
        umlMooPlusFsyncMs: median(mooSync),
        oursMiBps: mib / (median(ours) / 1000),
        umlMooMiBps: mib / (median(moo) / 1000),
        ratioVsUmlMoo: median(moo) / median(ours),
        ratioVsUmlMooPlusFsync: median(mooSync) / median(ours),
        goalRatio: 2,
      };
      results.figures[`merge_1GiB_10pct_${pattern}_${where}`] = fig;
      const what = pattern === 'blocks' ? 'random 4 KiB blocks' : 'random single sectors';
      rows.push([
        `merge 1 GiB, 10% dirty (${what}), ${where}`,
        `${fig.oursMs.toFixed(0)} ms = ${fig.oursMiBps.toFixed(0)} MiB/s of base`,
        '>= 2x uml_moo',
        `${fig.ratioVsUmlMoo.toFixed(2)}x uml_moo -d (${fig.umlMooMs.toFixed(0)} ms); ${fig.ratioVsUmlMooPlusFsync.toFixed(2)}x uml_moo -d + fsync (${fig.umlMooPlusFsyncMs.toFixed(0)} ms)`,
      ]);

      const out = join(dir, 'flat.img');
      const oursC = [];
      const mooC = [];
      const mooCSync = [];
      for (let i = 0; i < RUNS; i++) {
        rmSync(out, { force: true });
        sh('sync', []);
        oursC.push(await timeAsync(() => commitOverlay(overlay, out)));
        rmSync(out, { force: true });
        sh('sync', []);
        const t0 = performance.now();
        sh('uml_moo', [overlay, out]);
        const t1 = performance.now();
        sh('sync', ['-d', out]);
        mooC.push(t1 - t0);
        mooCSync.push(performance.now() - t0);
      }
      rmSync(out, { force: true });
      const cfig = {
        oursMs: median(oursC),
        umlMooMs: median(mooC),
        umlMooPlusFsyncMs: median(mooCSync),
        oursMiBps: mib / (median(oursC) / 1000),
        ratioVsUmlMoo: median(mooC) / median(oursC),
        ratioVsUmlMooPlusFsync: median(mooCSync) / median(oursC),
      };
      results.figures[`commit_1GiB_10pct_${pattern}_${where}`] = cfig;
      rows.push([
        `commit 1 GiB, 10% dirty (${what}), ${where}`,
        `${cfig.oursMs.toFixed(0)} ms = ${cfig.oursMiBps.toFixed(0)} MiB/s`,
        '(no goal)',
        `${cfig.ratioVsUmlMoo.toFixed(2)}x uml_moo (${cfig.umlMooMs.toFixed(0)} ms); ${cfig.ratioVsUmlMooPlusFsync.toFixed(2)}x uml_moo + fsync (${cfig.umlMooPlusFsyncMs.toFixed(0)} ms)`,
      ]);
      rmSync(overlay);
      rmSync(target, { force: true });
    }
  } finally {
    if (dir !== work) rmSync(dir, { recursive: true, force: true });
  }
}

const results = {
  host: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    dir: work,
    fsType: statfsSync(work).type.toString(16),
  },
  runs: RUNS,
  figures: {},
};
const rows = [];

try {
  // 1. Creation: independent of size, goal <= 10 ms.
  for (const [label, size, sparse] of [
    ['64MiB', 64 << 20, false],
    ['8GiB', 8 * GiB, true],
  ]) {
    const base = join(work, `create-${label}.img`);
    if (sparse) {
      writeFileSync(base, '');
      truncateSync(base, size);
      utimesSync(base, 1_700_000_000, 1_700_000_000);
    } else makeBase(base, size);
    const ours = [];
    const theirs = [];
    for (let i = 0; i < Math.max(RUNS, 10); i++) {
      const o = join(work, `c${i}.cow`);
      ours.push(time(() => createOverlay(o, base)));
      rmSync(o);
      theirs.push(time(() => sh('uml_mkcow', [o, base])));
      rmSync(o);
    }
    const fig = {
      oursMs: median(ours),
      oursMaxMs: Math.max(...ours),
      umlMkcowMs: median(theirs),
      goalMs: 10,
    };
    results.figures[`create_${label}`] = fig;
    rows.push([
      `create overlay, ${label} base`,
      `${fig.oursMs.toFixed(2)} ms (max ${fig.oursMaxMs.toFixed(2)})`,
      '<= 10 ms',
      `uml_mkcow ${fig.umlMkcowMs.toFixed(2)} ms (incl. exec)`,
    ]);
    rmSync(base);
  }

  for (const [where, dir] of scratchDirs()) await mergeAndCommit(where, dir);
} finally {
  rmSync(work, { recursive: true, force: true });
}

results.date = new Date().toISOString();
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const file = join(root, 'bench', 'results', 'cow.json');
writeFileSync(`${file}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
execFileSync('mv', [`${file}.tmp`, file]);

const widths = [0, 1, 2, 3].map((i) =>
  Math.max(
    ...[['figure', 'measured', 'goal', 'vs uml-utilities (same run)'], ...rows].map((r) => r[i].length),
  ),
);
for (const r of [['figure', 'measured', 'goal', 'vs uml-utilities (same run)'], ...rows]) {
  console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
}
console.log(
  `\nresults: ${file} (scratch dir ${work}, fs type 0x${results.host.fsType}, ${RUNS} runs, medians)`,
);
