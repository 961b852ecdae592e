#!/usr/bin/env node
// Network benchmarks, all in one run so the ratios compare like with like: TCP throughput and ping
// latency between two machines through our switch (NICs on the default L2TPv3 transport, and on the
// daemon transport, which is what uml_switch's guests use), through Debian's uml_switch (daemon
// transport on 6.1), and over a direct L2TPv3 link between the two kernels (no switch); and the CPU our
// switch spends per frame. Every machine runs --no-sandbox (the daemon transport's
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
const PINGS = Number(process.env.NET_BENCH_PINGS ?? 100);
const PING_SLICES = 4;

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

/** RTTs in ms of N pings, each reply's own time. */
function pingTimes(from, to, n) {
  const out = cli(['exec', from, '--', 'ping', '-c', String(n), '-i', '0.02', to]);
  const times = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (times.length < n * 0.9) throw new Error(`ping ${from} → ${to}: ${out}`);
  return times;
}

/** The paths in a round's order: rotated by k, so no path always runs first, or right after another's load. */
const rotated = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

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
  // 1b. our switch, with the NICs on the daemon transport (the same guest transport uml_switch uses)
  cli(['create', 'e1', '--net', 'bn,transport=daemon', '--no-sandbox']);
  cli(['create', 'e2', '--net', 'bn,transport=daemon', '--no-sandbox']);
  // 2. uml_switch (uml-utilities), legacy daemon transport
  sw = spawn('uml_switch', ['-unix', ctl], { stdio: ['pipe', 'ignore', 'ignore'] });
  await new Promise((r) => setTimeout(r, 300));
  cli(['create', 'd1', '--net', `daemon:${ctl}`, '--no-sandbox']);
  cli(['create', 'd2', '--net', `daemon:${ctl}`, '--no-sandbox']);
  // 3. direct L2TPv3 between the two kernels (hot-plugged through mconsole)
  cli(['create', 'l1', '--no-sandbox']);
  cli(['create', 'l2', '--no-sandbox']);
  cli(['start', 's1', 's2', 'e1', 'e2', 'd1', 'd2', 'l1', 'l2']);
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
  // e2's lease, once: it is stable, and each look is a CLI call.
  const e2Ip = inspect().ports.find((p) => p.machine === 'e2').ip;
  const ours = { ping: [], mbit: [], cpuUsPerFrame: [], cpuMsPerMiB: [] };
  const oursDaemon = { ping: [], mbit: [], cpuMsPerMiB: [] };
  const legacy = { ping: [], mbit: [], cpuMsPerMiB: [] };
  const direct = { ping: [], mbit: [] };
  const paths = [
    {
      samples: ours,
      ping: (n) => pingTimes('s1', 's2', n),
      transfer: async () => {
        const pid = state().switch.pid;
        const c0 = cpuTicks(pid);
        const f0 = inspect().stats.frames;
        ours.mbit.push(await throughput('s1', 's2', '10.77.0.3', port++));
        const frames = inspect().stats.frames - f0;
        ours.cpuUsPerFrame.push(((cpuTicks(pid) - c0) * 10_000) / frames);
        ours.cpuMsPerMiB.push(((cpuTicks(pid) - c0) * 10) / MIB);
      },
    },
    {
      samples: oursDaemon,
      ping: (n) => pingTimes('e1', 'e2', n),
      transfer: async () => {
        const e0 = cpuTicks(state().switch.pid);
        oursDaemon.mbit.push(await throughput('e1', 'e2', e2Ip, port++));
        oursDaemon.cpuMsPerMiB.push(((cpuTicks(state().switch.pid) - e0) * 10) / MIB);
      },
    },
    {
      samples: legacy,
      ping: (n) => pingTimes('d1', '10.78.0.3', n),
      transfer: async () => {
        const l0 = cpuTicks(sw.pid);
        legacy.mbit.push(await throughput('d1', 'd2', '10.78.0.3', port++));
        legacy.cpuMsPerMiB.push(((cpuTicks(sw.pid) - l0) * 10) / MIB);
      },
    },
    {
      samples: direct,
      ping: (n) => pingTimes('l1', '10.79.0.3', n),
      transfer: async () => {
        direct.mbit.push(await throughput('l1', 'l2', '10.79.0.3', port++));
      },
    },
  ];
  for (let i = 0; i < ROUNDS; i++) {
    // A round's pings in PING_SLICES slices, every path in each, in a rotated order: load that drifts
    // during the round lands on all four paths alike. A path's figure for the round: the median reply.
    const times = paths.map(() => []);
    for (let slice = 0; slice < PING_SLICES; slice++) {
      for (const p of rotated(paths, i + slice)) {
        times[paths.indexOf(p)].push(...p.ping(Math.ceil(PINGS / PING_SLICES)));
      }
    }
    paths.forEach((p, k) => {
      p.samples.ping.push(median(times[k]));
    });
    for (const p of rotated(paths, i)) await p.transfer();
  }
  cli(['rm', '-f', 's1', 's2', 'e1', 'e2', 'd1', 'd2', 'l1', 'l2']);
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
    ourSwitchDaemon: {
      pingMs: m(oursDaemon.ping),
      mbit: m(oursDaemon.mbit),
      cpuMsPerMiB: m(oursDaemon.cpuMsPerMiB),
      samples: oursDaemon,
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
    latencyRatioPerRound: Number(median(legacy.ping.map((x, i) => x / ours.ping[i])).toFixed(3)),
    // Like for like: both switches with the guests on the daemon transport.
    daemonThroughputRatioPerRound: Number(
      median(oursDaemon.mbit.map((x, i) => x / legacy.mbit[i])).toFixed(3),
    ),
    daemonLatencyRatioPerRound: Number(median(legacy.ping.map((x, i) => x / oursDaemon.ping[i])).toFixed(3)),
    daemonThroughputRatio: Number((median(oursDaemon.mbit) / median(legacy.mbit)).toFixed(3)),
    daemonLatencyRatio: Number((median(legacy.ping) / median(oursDaemon.ping)).toFixed(3)),
    transferMiB: MIB,
    rounds: ROUNDS,
  };
  const f = results.figures;
  const rows = [
    ['figure', 'umlkit, L2TPv3 NICs', 'umlkit, daemon NICs', 'uml_switch (daemon)', 'direct L2TPv3'],
    [
      'TCP throughput (Mbit/s, median)',
      f.ourSwitch.mbit,
      f.ourSwitchDaemon.mbit,
      f.umlSwitch.mbit,
      f.directL2tpv3.mbit,
    ],
    [
      'ping RTT (ms, median of replies)',
      f.ourSwitch.pingMs,
      f.ourSwitchDaemon.pingMs,
      f.umlSwitch.pingMs,
      f.directL2tpv3.pingMs,
    ],
    [
      'switch CPU per MiB moved (ms)',
      f.ourSwitch.cpuMsPerMiB,
      f.ourSwitchDaemon.cpuMsPerMiB,
      f.umlSwitch.cpuMsPerMiB,
      '—',
    ],
    ['switch CPU per frame (µs)', f.ourSwitch.cpuUsPerFrame, '—', '—', '—'],
    [
      'throughput vs uml_switch, median of rounds (goal ≥ 1.0)',
      f.throughputRatioPerRound,
      f.daemonThroughputRatioPerRound,
      '',
      '',
    ],
    [
      'throughput vs uml_switch, ratio of medians',
      f.throughputRatioVsUmlSwitch,
      f.daemonThroughputRatio,
      '',
      '',
    ],
    [
      'latency vs uml_switch, median of rounds (goal ≥ 1.0)',
      f.latencyRatioPerRound,
      f.daemonLatencyRatioPerRound,
      '',
      '',
    ],
    ['latency vs uml_switch, ratio of medians', f.latencyRatioVsUmlSwitch, f.daemonLatencyRatio, '', ''],
  ];
  results.table = rows;
  printTable(rows);
  console.log(`results: ${writeResults('net', results)}`);
} finally {
  sw?.kill('SIGINT');
  spawnSync(process.execPath, [BIN, 'rm', '-f', 's1', 's2', 'e1', 'e2', 'd1', 'd2', 'l1', 'l2'], { env });
  spawnSync(process.execPath, [BIN, 'net', 'rm', '-f', 'bn'], { env });
  rmSync(work, { recursive: true, force: true });
}
