#!/usr/bin/env node
// Kernel benchmarks (issue 6), in one run and interleaved: boot+poweroff of the bare kernel and boot → ready /
// boot+command+poweroff through umlkit, for Debian's UML 6.1, the fast-profile 6.1 and the newest kernel built
// (ptrace and seccomp mode): each with the boot options `umlkit run` gives it by default (boot trims, lpj=,
// seccomp=on) and with none, or one of them alone; guest fork+exec of a static /bin/true and a busybox shell
// workload on the default rows, against the same binaries on the host. Writes bench/results/kernel.json with
// every sample (boots and workloads).
// Needs `node scripts/build.mjs` and the kernels built (`umlkit kernel build`, `--version newest`).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fastKernels, median, printTable, timed, writeResults } from './lib.mjs';

// BENCH_ROUNDS lowers the rounds for a quick look (the workloads run max(3, rounds/2) times).
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const work = mkdtempSync('/tmp/ukbk-');
const env = { ...process.env, UMLKIT_STATE_DIR: join(work, 's'), UMLKIT_RUNTIME_DIR: join(work, 'r') };
const { resolvePaths } = await import('../dist/host/paths.js');
const { probeKernel } = await import('../dist/host/kernel.js');
const { listStoredKernels } = await import('../dist/host/kernel-store.js');
const { bootTrims, kernelBootArgs, readCalibration } = await import('../dist/host/kernel-boot-args.js');
const { kernelEnv } = await import('../dist/host/kernel-env.js');
const { findImage } = await import('../dist/host/image/images.js');
const { runMachine } = await import('../dist/machine/run.js');
const { calibrateKernel } = await import('../dist/machine/kernel-calibrate.js');
const { createDisk } = await import('../dist/host/disk/disk-create.js');

const paths = resolvePaths(env);
execFileSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'umlkit.js'), 'image', 'build'], {
  env,
  stdio: 'ignore',
});
const image = findImage(paths, 'busybox').path;

// --- the kernels ------------------------------------------------------------------------------------
const { fast61, newest } = fastKernels(listStoredKernels(paths));
const kernels = { 'Debian 6.1': probeKernel('/usr/bin/linux.uml', 'path') };
if (fast61) kernels['fast 6.1'] = probeKernel(fast61.path, 'cache');
if (newest && newest !== fast61)
  kernels[`fast ${newest.manifest.kernelVersion}`] = probeKernel(newest.path, 'cache');
const newestName = newest && newest !== fast61 ? `fast ${newest.manifest.kernelVersion}` : undefined;
for (const k of Object.values(kernels)) {
  if (!readCalibration(paths, k.path)?.lpj) await calibrateKernel(k, image, paths);
}
// Each kernel's rows start from what `umlkit run` boots it with (kernelBootArgs: boot trims, lpj=, seccomp=on
// where it passed its check here; with no UMLKIT_* override), then take each option alone over none, so every
// option umlkit sets by default is measured and the default row is what users get.
/** Boot configurations: a kernel, the options on its command line, and whether the workloads run on it. */
const configs = {};
for (const [name, k] of Object.entries(kernels)) {
  const defaults = kernelBootArgs(paths, k.path, {});
  const options = {
    lpj: defaults.filter((a) => a.startsWith('lpj=')),
    trims: bootTrims(k.path, {}),
    seccomp: defaults.filter((a) => a === 'seccomp=on'),
  };
  configs[`${name} none`] = { kernel: k, args: [] };
  for (const [option, args] of Object.entries(options)) {
    if (args.length > 0 && args.length < defaults.length) configs[`${name} +${option}`] = { kernel: k, args };
  }
  configs[`${name} default`] = { kernel: k, args: defaults, workload: true };
  // The newest kernel's process costs in ptrace mode too: what seccomp=on changes.
  if (options.seccomp.length > 0)
    configs[`${name} default -seccomp`] = {
      kernel: k,
      args: defaults.filter((a) => a !== 'seccomp=on'),
      workload: true,
    };
}

// --- boots ------------------------------------------------------------------------------------------
let n = 0;
/** The bare kernel: the image's busybox poweroff as init, as in bench/run.mjs and the baselines. */
async function rawBoot(c) {
  const cow = join(work, `raw-${n++}.cow`);
  const r = await timed(
    c.kernel.path,
    [
      `umid=k${n}`,
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
      ...c.args,
    ],
    { env: kernelEnv(c.kernel.path, '/dev/shm', work), detached: true },
  );
  rmSync(cow, { force: true });
  if (r.code !== 0) throw new Error(`raw boot of ${c.kernel.path} failed: ${r.code} ${r.stderr}`);
  return r.ms;
}

const sink = () => new Writable({ write: (_c, _e, done) => done() });
/** Through umlkit (agent initramfs, overlay, agent line): ready = the agent's hello; total = run of `true`. */
const failures = [];
async function umlkitRun(c, argv = ['true'], disks = [], stdout = sink()) {
  try {
    return await umlkitRunOnce(c, argv, disks, stdout);
  } catch (e) {
    // A boot that never reaches the agent is recorded (results.bootFailures) and retried once, so one rare
    // hang does not lose the whole run; a second failure ends it.
    if (e.code !== 'BOOT_TIMEOUT') throw e;
    failures.push({ kernel: c.kernel.path, args: c.args, argv, details: e.details });
    return umlkitRunOnce(c, argv, disks, stdout);
  }
}

async function umlkitRunOnce(c, argv, disks, stdout) {
  const t = performance.now();
  const r = await runMachine({
    kernel: { ...c.kernel, bootArgs: c.args },
    imagePath: image,
    memoryBytes: 128 << 20,
    disks,
    argv,
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
    workdir: '/',
    tty: false,
    bootTimeoutMs: 20_000,
    keep: false,
    stdout,
    stderr: sink(),
    paths,
  });
  if (r.exitCode !== 0)
    throw new Error(`umlkit run of ${argv.join(' ')} on ${c.kernel.path} exited ${r.exitCode}`);
  return { readyMs: r.timingsMs.boot, totalMs: performance.now() - t };
}

const boot = Object.fromEntries(Object.keys(configs).map((k) => [k, { raw: [], ready: [], total: [] }]));
for (let i = 0; i < rounds; i++) {
  for (const [name, c] of Object.entries(configs)) {
    boot[name].raw.push(await rawBoot(c));
    const r = await umlkitRun(c);
    boot[name].ready.push(r.readyMs);
    boot[name].total.push(r.totalMs);
  }
}

// --- guest workloads against the host -----------------------------------------------------------------
const tools = join(work, 'tools');
mkdirSync(tools);
writeFileSync(
  join(tools, 'ukbench.c'),
  `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static void run(char **argv) { pid_t p = fork(); if (p == 0) { execv(argv[0], argv); _exit(127); } int st; waitpid(p, &st, 0); if (!WIFEXITED(st) || WEXITSTATUS(st)) { fprintf(stderr, "%s failed\\n", argv[0]); exit(1); } }
int main(int argc, char **argv) {
  if (argc >= 4 && argv[1][0] == 's') { int n = atoi(argv[2]); char *a[] = { argv[3], NULL }; run(a); double t = now(); for (int i = 0; i < n; i++) run(a); printf("spawn_us %.1f\\n", (now() - t) / n); return 0; }
  if (argc >= 3 && argv[1][0] == 't') { double t = now(); run(argv + 2); printf("ms %.1f\\n", (now() - t) / 1000); return 0; }
  return 2;
}
`,
);
execFileSync('gcc', ['-static', '-O2', '-o', join(tools, 'ukbench'), join(tools, 'ukbench.c')]);
writeFileSync(
  join(tools, 'wl.sh'),
  [
    'd=$1/wl; rm -rf $d; mkdir -p $d; cd $d || exit 1',
    'i=0; while [ $i -lt 100 ]; do echo "line $i" > f$i; i=$((i+1)); done',
    'cat f* | wc -l > /dev/null',
    'for f in f1 f2 f3 f4 f5 f6 f7 f8 f9; do grep -c line $f > /dev/null; done',
    'i=0; while [ $i -lt 100 ]; do echo $i | grep -q 7; i=$((i+1)); done',
    'tar cf t.tar f* && gzip -c t.tar > t.gz && gunzip -c t.gz | tar tf - | wc -l > /dev/null',
    'cd / && rm -rf $d',
    '',
  ].join('\n'),
);
chmodSync(join(tools, 'wl.sh'), 0o755);
const disk = join(work, 'tools.ext4');
await createDisk({ path: disk, sizeBytes: 32 << 20, fs: 'ext4', fromDir: tools }, env);
const SPAWNS = 300;
const guestScript = `mount -o ro /dev/ubdb /mnt && /mnt/ukbench spawn ${SPAWNS} /bin/true && /mnt/ukbench time /bin/sh /mnt/wl.sh /tmp`;

// Host: the same static binaries (busybox-static as /bin/true and sh, as in the image).
const hostBin = join(work, 'hostbin');
mkdirSync(hostBin);
for (const applet of ['true', 'sh', 'cat', 'wc', 'grep', 'tar', 'gzip', 'gunzip', 'rm', 'mkdir', 'echo']) {
  symlinkSync('/usr/bin/busybox', join(hostBin, applet));
}
const parse = (text) => ({
  spawnUs: Number(/spawn_us ([\d.]+)/.exec(text)?.[1]),
  shellMs: Number(/ms ([\d.]+)/.exec(text)?.[1]),
});
const host = () => {
  const a = execFileSync(join(tools, 'ukbench'), ['spawn', String(SPAWNS), join(hostBin, 'true')], {
    encoding: 'utf8',
  });
  const b = execFileSync(join(tools, 'ukbench'), ['time', join(hostBin, 'sh'), join(tools, 'wl.sh'), work], {
    encoding: 'utf8',
    env: { PATH: hostBin },
  });
  return parse(a + b);
};
const workloadConfigs = Object.fromEntries(Object.entries(configs).filter(([, c]) => c.workload));
const wl = { host: [], ...Object.fromEntries(Object.keys(workloadConfigs).map((k) => [k, []])) };
for (let i = 0; i < Math.max(3, Math.ceil(rounds / 2)); i++) {
  wl.host.push(host());
  for (const [name, c] of Object.entries(workloadConfigs)) {
    let out = '';
    await umlkitRun(
      c,
      ['sh', '-c', guestScript],
      [{ path: disk, readonly: true }],
      new Writable({
        write(chunk, _e, done) {
          out += chunk;
          done();
        },
      }),
    );
    wl[name].push(parse(out));
  }
}
rmSync(work, { recursive: true, force: true });

// --- results --------------------------------------------------------------------------------------
const med = (xs, key) => median(xs.map((x) => x[key]));
const hostSpawn = med(wl.host, 'spawnUs');
const hostShell = med(wl.host, 'shellMs');
const figures = {};
for (const [name, b] of Object.entries(boot)) {
  figures[name] = {
    kernel: `${configs[name].kernel.path} (${configs[name].kernel.version})`,
    args: configs[name].args,
    bootPoweroffMs: median(b.raw),
    umlkitReadyMs: median(b.ready),
    umlkitRunTrueMs: median(b.total),
    samples: b,
  };
  if (wl[name]) {
    figures[name].forkExecUs = med(wl[name], 'spawnUs');
    figures[name].forkExecRatio = figures[name].forkExecUs / hostSpawn;
    figures[name].shellMs = med(wl[name], 'shellMs');
    figures[name].shellRatio = figures[name].shellMs / hostShell;
    figures[name].workloadSamples = wl[name];
  }
}
const fastKey = kernels['fast 6.1'] ? 'fast 6.1 default' : undefined;
const newestKey = newestName ? `${newestName} default` : undefined;
const goals = {
  bootPoweroffFast: fastKey
    ? {
        goal: '<= 100 ms',
        figure: figures[fastKey].bootPoweroffMs,
        met: figures[fastKey].bootPoweroffMs <= 100,
      }
    : { goal: '<= 100 ms', figure: null, met: false, note: 'no fast-profile 6.1 built' },
  forkExecNewest: newestKey
    ? {
        goal: '<= 7x host',
        figure: figures[newestKey].forkExecRatio,
        met: figures[newestKey].forkExecRatio <= 7,
      }
    : { goal: '<= 7x host', figure: null, met: false, note: 'no newer kernel built' },
};
const file = writeResults('kernel', {
  rounds,
  host: { spawnUs: hostSpawn, shellMs: hostShell, samples: wl.host },
  figures,
  goals,
  bootFailures: failures,
  date: new Date().toISOString(),
});
const f1 = (x) => (x === undefined ? '-' : x.toFixed(0));
printTable([
  [
    'kernel, options',
    'command line',
    'boot+poweroff',
    'umlkit ready',
    'umlkit run true',
    'fork+exec',
    'vs host',
    'shell wl',
    'vs host',
  ],
  ...Object.entries(figures).map(([name, f]) => [
    name,
    f.args.map((a) => a.replace(/^lpj=\d+$/, 'lpj=N').replace(/^initcall_blacklist=/, 'icb=')).join(' ') ||
      '-',
    `${f1(f.bootPoweroffMs)} ms`,
    `${f1(f.umlkitReadyMs)} ms`,
    `${f1(f.umlkitRunTrueMs)} ms`,
    f.forkExecUs ? `${f1(f.forkExecUs)} us` : '-',
    f.forkExecRatio ? `${f.forkExecRatio.toFixed(1)}x` : '-',
    f.shellMs ? `${f1(f.shellMs)} ms` : '-',
    f.shellRatio ? `${f.shellRatio.toFixed(1)}x` : '-',
  ]),
  ['host native', '-', '-', '-', '-', `${f1(hostSpawn)} us`, '1.0x', `${f1(hostShell)} ms`, '1.0x'],
]);
console.log(
  `\ngoals: boot+poweroff (${fastKey ?? 'fast 6.1'}) ${goals.bootPoweroffFast.figure?.toFixed(0) ?? '-'} ms <= 100 ms: ${goals.bootPoweroffFast.met ? 'met' : 'NOT met'}; fork+exec (${newestKey ?? 'newest'}) ${goals.forkExecNewest.figure?.toFixed(1) ?? '-'}x <= 7x host: ${goals.forkExecNewest.met ? 'met' : 'NOT met'}`,
);
if (failures.length > 0)
  console.log(`boot failures (retried): ${failures.length}, see bootFailures in the results`);
console.log(`results: ${file}`);
