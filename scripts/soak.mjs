#!/usr/bin/env node
// Crash consistency: kill -9 a sandboxed machine during heavy writes, again and again, then check that the
// base image is byte-identical and that the data disk and the root overlay are clean after a journal
// replay (`e2fsck -fy` on a copy, then `e2fsck -fn` must find nothing). `npm run soak` runs 300 cycles;
// the guest test runs 20. Usage: node scripts/soak.mjs [--cycles N] [--json]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'umlkit.js');
const args = process.argv.slice(2);
const cycles = Number(args[args.indexOf('--cycles') + 1] || 300) || 300;
const asJson = args.includes('--json');
const root = mkdtempSync('/tmp/uk-soak-');
const env = {
  ...process.env,
  UMLKIT_STATE_DIR: join(root, 'state'),
  UMLKIT_RUNTIME_DIR: join(root, 'rt'),
  HOME: root,
};
for (const d of ['state', 'rt']) mkdirSync(join(root, d), { mode: 0o700 });
const say = (line) => asJson || console.log(line);
const umlkit = (...a) => execFileSync(process.execPath, [BIN, ...a], { env, encoding: 'utf8' });

// Three writers as in the security research: fsynced 256 KiB blocks, small-file churn, random 4 KiB
// writes with periodic sync, on the data disk and on the root (the overlay).
const WORKLOAD = `mount /dev/ubdb /mnt || exit 9
(while :; do dd if=/dev/urandom of=/mnt/big bs=256k count=8 conv=fsync 2>/dev/null; done) &
(i=0; while :; do echo $i > /mnt/f$((i%50)); mv /mnt/f$((i%50)) /mnt/g$((i%50)); rm -f /mnt/g$(((i+25)%50)); i=$((i+1)); done) &
(mkdir -p /churn; while :; do dd if=/dev/urandom of=/rand.bin bs=4k count=16 seek=$((RANDOM%256)) conv=notrunc 2>/dev/null; echo x > /churn/$RANDOM; rm -f /churn/$RANDOM; sync; done) &
echo WRITING
sleep 60`;

const E2FSCK = ['/usr/sbin/e2fsck', '/sbin/e2fsck'].find((p) => existsSync(p)) ?? 'e2fsck';
const BENIGN = [
  /Free (blocks|inodes) count wrong/,
  /could be narrower/,
  /recovering journal/i,
  /Clearing orphaned inode/,
  /^Pass \d/,
  /clean|FILE SYSTEM WAS MODIFIED|files|blocks|^e2fsck|^\s*$|^Fix\? yes|^Optimize\? yes|^\/.*: /,
];

function fsckClean(image, label) {
  const copy = join(root, `${label}.check.img`);
  copyFileSync(image, copy);
  const fix = spawnSync(E2FSCK, ['-fy', copy], { encoding: 'utf8' });
  const after = spawnSync(E2FSCK, ['-fn', copy], { encoding: 'utf8' });
  if (fix.error || after.error) throw fix.error ?? after.error;
  const odd = (fix.stdout + fix.stderr).split('\n').filter((l) => !BENIGN.some((re) => re.test(l)));
  return {
    copy,
    clean: after.status === 0 && (fix.status ?? 8) < 4,
    odd,
    fixRc: fix.status,
    checkRc: after.status,
  };
}

function machinePids() {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(env.UMLKIT_RUNTIME_DIR) && cmd.includes('umid=')) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

const sha = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
const images = JSON.parse(umlkit('image', 'ls', '--json')).images ?? [];
const base = images.find((i) => i.name === 'busybox')?.path;
if (!base) throw new Error('no busybox image: run `umlkit image build busybox`');
const baseBefore = { sha: sha(base), mtime: statSync(base).mtimeMs };
const data = join(root, 'data.ext4');
umlkit('disk', 'create', data, '--size', '128M');

const results = { cycles, corruptData: 0, corruptOverlay: 0, hangs: 0, details: [] };
for (let c = 1; c <= cycles; c++) {
  const cli = spawn(process.execPath, [BIN, 'run', '--disk', data, '--', 'sh', '-c', WORKLOAD], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const writing = await new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 30_000);
    const done = (value) => {
      clearTimeout(t);
      resolve(value);
    };
    cli.stdout.on('data', (d) => d.toString().includes('WRITING') && done(true));
    cli.on('exit', () => done(false));
  });
  if (!writing) results.hangs++;
  await new Promise((r) => setTimeout(r, 1000 + Math.random() * 3000));
  // kill -9 of everything at once: the CLI (so the run dir and its overlay stay) and the machine.
  const pids = machinePids();
  cli.kill('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  await new Promise((r) => (cli.exitCode !== null || cli.signalCode !== null ? r() : cli.on('exit', r)));
  const until = Date.now() + 5000;
  while (machinePids().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (machinePids().length > 0) results.hangs++;
  const dataCheck = fsckClean(data, 'data');
  if (!dataCheck.clean) results.corruptData++;
  // Start the next cycle from the repaired disk, as a user would after a crash.
  copyFileSync(dataCheck.copy, data);
  const runDir = readdirSync(env.UMLKIT_RUNTIME_DIR).find((d) => d.startsWith('run-'));
  let overlayCheck = { clean: true, odd: [] };
  if (runDir) {
    const overlay = join(env.UMLKIT_RUNTIME_DIR, runDir, `${runDir}.cow`);
    const flat = join(root, 'flat.img');
    umlkit('cow', 'commit', overlay, flat);
    overlayCheck = fsckClean(flat, 'overlay');
    rmSync(flat, { force: true });
    if (!overlayCheck.clean) results.corruptOverlay++;
    // The dead run's dir and locks are swept by the next run (src/host/run-dir.ts).
  }
  if (!dataCheck.clean || !overlayCheck.clean) {
    results.details.push({
      cycle: c,
      data: dataCheck.odd.slice(0, 5),
      overlay: overlayCheck.odd.slice(0, 5),
    });
  }
  say(
    `cycle ${c}/${cycles}: data ${dataCheck.clean ? 'clean' : 'CORRUPT'}, overlay ${overlayCheck.clean ? 'clean' : 'CORRUPT'}`,
  );
}
// One last run sweeps the last dead run; then nothing may be left.
umlkit('run', '--disk', data, '--', 'true');
const baseAfter = { sha: sha(base), mtime: statSync(base).mtimeMs };
results.baseUnchanged = baseAfter.sha === baseBefore.sha && baseAfter.mtime === baseBefore.mtime;
results.leftoverProcesses = machinePids().length;
results.leftoverRunDirs = readdirSync(env.UMLKIT_RUNTIME_DIR).length;
const locks = join(env.UMLKIT_STATE_DIR, 'locks');
results.leftoverLocks = readdirSync(locks).flatMap((d) => readdirSync(join(locks, d))).length;
rmSync(root, { recursive: true, force: true });
if (asJson) console.log(JSON.stringify(results));
else console.log(JSON.stringify(results, null, 2));
const ok =
  results.corruptData === 0 &&
  results.corruptOverlay === 0 &&
  results.hangs === 0 &&
  results.baseUnchanged &&
  results.leftoverProcesses + results.leftoverRunDirs + results.leftoverLocks === 0;
process.exitCode = ok ? 0 : 1;
