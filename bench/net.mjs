#!/usr/bin/env node
// Network benchmarks, all in one run so the ratios compare like with like: TCP throughput and ping
// latency between two machines through our switch, through Debian's uml_switch (legacy daemon transport
// on 6.1), and over a direct L2TPv3 link between the two kernels (no switch: the fastest rootless path
// found); and the CPU our switch spends per frame. Every machine runs --no-sandbox (the daemon transport's
// socket is not visible in the sandbox), so the three paths differ only in the network.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, median, printTable, writeResults } from './lib.mjs';

const work = mkdtempSync('/tmp/ukn-');
const env = { ...process.env, UMLKIT_STATE_DIR: join(work, 's'), UMLKIT_RUNTIME_DIR: join(work, 'r') };
const MIB = Number(process.env.NET_BENCH_MIB ?? 48);
const ROUNDS = Number(process.env.NET_BENCH_ROUNDS ?? 7);

function cli(args, { check = true } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 180_000 });
  if (check && r.status !== 0) throw new Error(`umlkit ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const cliAsync = (args) =>
  new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', () => resolve(out));
  });

const freePort = () =>
  new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** avg RTT in ms of N pings. */
function pingMs(from, to, n = 30) {
  const out = cli(['exec', from, '--', 'ping', '-c', String(n), '-i', '0.05', '-q', to]);
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  if (!m) throw new Error(`ping ${from} → ${to}: ${out}`);
  return Number(m[1]);
}

/** Mbit/s of one TCP transfer of MIB MiB from `server` (nc -l) to `client`, timed in the client guest. */
async function throughput(client, server, serverIp, port) {
  const listener = cliAsync([
    'exec',
    server,
    '--',
    'sh',
    '-c',
    `dd if=/dev/zero bs=64k count=${MIB * 16} 2>/dev/null | nc -l -p ${port}`,
  ]);
  await new Promise((r) => setTimeout(r, 800));
  // The client's stdin must stay open (busybox nc quits at stdin EOF): a FIFO opened read-write.
  const out = cli([
    'exec',
    client,
    '--',
    'sh',
    '-c',
    `rm -f /tmp/f; mkfifo /tmp/f; t0=$(cut -d' ' -f1 /proc/uptime); n=$(nc ${serverIp} ${port} 0<>/tmp/f | wc -c); t1=$(cut -d' ' -f1 /proc/uptime); echo $n $t0 $t1`,
  ]);
  await listener;
  const [n, t0, t1] = out.trim().split(' ').map(Number);
  if (n !== MIB * 1024 * 1024) throw new Error(`transfer ${client} ← ${server}: ${out}`);
  return (n * 8) / (t1 - t0) / 1e6;
}

const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
    .split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks (100/s)
};

const setIp = (m, dev, ip) =>
  cli(['exec', m, '--', 'sh', '-c', `ip link set ${dev} up && ip addr add ${ip}/24 dev ${dev}`]);

const results = {};
let port = 6000;
const ctl = join(work, 'sw.ctl');
let sw;
try {
  // All three pairs run at once and are measured round by round (ours, uml_switch, direct, ours, ...),
  // so load from other work on this host hits each path alike.
  // 1. our switch
  cli(['net', 'create', 'bn', '--subnet', '10.77.0.0/24']);
  cli(['create', 's1', '--net', 'bn', '--no-sandbox']);
  cli(['create', 's2', '--net', 'bn', '--no-sandbox']);
  // 2. uml_switch (uml-utilities), legacy daemon transport
  sw = spawn('uml_switch', ['-unix', ctl], { stdio: ['pipe', 'ignore', 'ignore'] });
  await new Promise((r) => setTimeout(r, 300));
  cli(['create', 'd1', '--net', `daemon:${ctl}`, '--no-sandbox']);
  cli(['create', 'd2', '--net', `daemon:${ctl}`, '--no-sandbox']);
  // 3. direct L2TPv3 between the two kernels (hot-plugged through mconsole)
  cli(['create', 'l1', '--no-sandbox']);
  cli(['create', 'l2', '--no-sandbox']);
  cli(['start', 's1', 's2', 'd1', 'd2', 'l1', 'l2']);
  setIp('d1', 'eth0', '10.78.0.2');
  setIp('d2', 'eth0', '10.78.0.3');
  const [pa, pb] = [await freePort(), await freePort()];
  const vec = (src, dst, mac) =>
    `vec0:transport=l2tpv3,udp=1,src=127.0.0.1,dst=127.0.0.1,srcport=${src},dstport=${dst},rx_session=1,tx_session=1,mac=${mac}`;
  cli(['mconsole', 'l1', 'config', vec(pa, pb, '02:00:00:00:00:11')]);
  cli(['mconsole', 'l2', 'config', vec(pb, pa, '02:00:00:00:00:12')]);
  setIp('l1', 'vec0', '10.79.0.2');
  setIp('l2', 'vec0', '10.79.0.3');

  const state = () => JSON.parse(readFileSync(join(work, 's', 'nets', 'bn', 'state.json'), 'utf8'));
  const inspect = () => JSON.parse(cli(['net', 'inspect', 'bn', '--json']));
  const ours = { ping: [], mbit: [], cpuUsPerFrame: [], cpuMsPerMiB: [] };
  const legacy = { ping: [], mbit: [], cpuMsPerMiB: [] };
  const direct = { ping: [], mbit: [] };
  for (let i = 0; i < ROUNDS; i++) {
    ours.ping.push(pingMs('s1', 's2'));
    const pid = state().switch.pid;
    const c0 = cpuTicks(pid);
    const f0 = inspect().stats.frames;
    ours.mbit.push(await throughput('s1', 's2', '10.77.0.3', port++));
    const frames = inspect().stats.frames - f0;
    ours.cpuUsPerFrame.push(((cpuTicks(pid) - c0) * 10_000) / frames);
    ours.cpuMsPerMiB.push(((cpuTicks(pid) - c0) * 10) / MIB);
    legacy.ping.push(pingMs('d1', '10.78.0.3'));
    const l0 = cpuTicks(sw.pid);
    legacy.mbit.push(await throughput('d1', 'd2', '10.78.0.3', port++));
    legacy.cpuMsPerMiB.push(((cpuTicks(sw.pid) - l0) * 10) / MIB);
    direct.ping.push(pingMs('l1', '10.79.0.3'));
    direct.mbit.push(await throughput('l1', 'l2', '10.79.0.3', port++));
  }
  cli(['rm', '-f', 's1', 's2', 'd1', 'd2', 'l1', 'l2']);
  cli(['net', 'rm', 'bn']);

  const m = (xs) => Number(median(xs).toFixed(3));
  results.figures = {
    ourSwitch: {
      pingMs: m(ours.ping),
      mbit: m(ours.mbit),
      cpuUsPerFrame: m(ours.cpuUsPerFrame),
      cpuMsPerMiB: m(ours.cpuMsPerMiB),
      samples: ours,
    },
    umlSwitch: {
      pingMs: m(legacy.ping),
      mbit: m(legacy.mbit),
      cpuMsPerMiB: m(legacy.cpuMsPerMiB),
      samples: legacy,
    },
    directL2tpv3: { pingMs: m(direct.ping), mbit: m(direct.mbit), samples: direct },
    throughputRatioVsUmlSwitch: Number((median(ours.mbit) / median(legacy.mbit)).toFixed(3)),
    // The same ratio round by round (each round measures both back to back): less exposed to load drift.
    throughputRatioPerRound: Number(median(ours.mbit.map((x, i) => x / legacy.mbit[i])).toFixed(3)),
    latencyRatioVsUmlSwitch: Number((median(legacy.ping) / median(ours.ping)).toFixed(3)),
    transferMiB: MIB,
    rounds: ROUNDS,
  };
  const f = results.figures;
  const rows = [
    ['figure', 'umlkit switch', 'uml_switch', 'direct l2tpv3', 'goal'],
    [
      'TCP throughput (Mbit/s, median)',
      f.ourSwitch.mbit,
      f.umlSwitch.mbit,
      f.directL2tpv3.mbit,
      `≥ 1.0× uml_switch: ${f.throughputRatioVsUmlSwitch}×`,
    ],
    [
      'ping RTT (ms, median of avg)',
      f.ourSwitch.pingMs,
      f.umlSwitch.pingMs,
      f.directL2tpv3.pingMs,
      `≥ 1.0× (uml_switch RTT / ours): ${f.latencyRatioVsUmlSwitch}×`,
    ],
    ['switch CPU per frame (µs)', f.ourSwitch.cpuUsPerFrame, '—', '—', '—'],
    ['switch CPU per MiB moved (ms)', f.ourSwitch.cpuMsPerMiB, f.umlSwitch.cpuMsPerMiB, '—', '—'],
    ['throughput ratio, median of rounds', f.throughputRatioPerRound, '', '', '≥ 1.0'],
  ];
  results.table = rows;
  printTable(rows);
  console.log(`results: ${writeResults('net', results)}`);
} finally {
  sw?.kill('SIGINT');
  spawnSync(process.execPath, [BIN, 'rm', '-f', 's1', 's2', 'd1', 'd2', 'l1', 'l2'], { env });
  spawnSync(process.execPath, [BIN, 'net', 'rm', '-f', 'bn'], { env });
  rmSync(work, { recursive: true, force: true });
}
