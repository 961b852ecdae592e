// Virtual networks against real kernels, as the unprivileged test user: two machines on one switch ping
// each other by name; capture read by tshark; loss on and off; hot-unplug and replug; a switch killed
// with -9 is seen as crashed and recovered. Only 127.0.0.1 is used on the host.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { switchProcesses } from '../helpers/net-procs.ts';
import { waitForNetStatus } from '../helpers/net-status.ts';
import { createSandbox, ensureTestUser, expectNoStack, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;

async function ok(args: string[], timeoutMs?: number): Promise<string> {
  const r = await umlkit(box, args, timeoutMs ? { timeoutMs } : {});
  if (r.code !== 0) throw new Error(`umlkit ${args.join(' ')} → ${r.code}: ${r.stderr}`);
  return r.stdout.toString();
}

const ping = async (from: string, to: string, count = 2): Promise<{ code: number | null; out: string }> => {
  const r = await umlkit(box, ['exec', from, '--', 'ping', '-c', String(count), '-W', '2', to]);
  return { code: r.code, out: r.stdout.toString() + r.stderr };
};

/** Running or sleeping, not a zombie waiting for its parent. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

const netState = (net: string) =>
  JSON.parse(readFileSync(join(box.stateDir, 'nets', net, 'state.json'), 'utf8'));

beforeAll(async () => {
  box = createSandbox(user ? { user } : {});
  await ok(['net', 'create', 'lab', '--subnet', '10.0.0.0/24']);
  await ok(['create', 'a', '--net', 'lab']);
  await ok(['create', 'b', '--net', 'lab']);
  await ok(['start', 'a', 'b']);
});

afterAll(async () => {
  if (!box) return;
  try {
    const switchPid = existsSync(join(box.stateDir, 'nets', 'lab', 'state.json'))
      ? netState('lab').switch.pid
      : 0;
    await umlkit(box, ['rm', '-f', 'c']); // removed by its test unless that failed
    expect((await umlkit(box, ['rm', '-f', 'a', 'b'])).code).toBe(0);
    expect((await umlkit(box, ['net', 'rm', 'lab', 'lab2'])).code).toBe(0);
    expect(switchPid > 0 && alive(switchPid)).toBe(false);
    expect(switchProcesses(box.stateDir)).toEqual([]);
    expect(existsSync(join(box.runtimeDir, 'n', 'lab'))).toBe(false);
    box.assertClean();
  } finally {
    // Even when an assertion above failed: no switch may outlive the test.
    for (const pid of switchProcesses(box.stateDir)) process.kill(pid, 'SIGKILL');
    box.dispose();
  }
});

describe('one switch', () => {
  it('lists the network with both machines, stable MACs and addresses', async () => {
    const ls = JSON.parse(await ok(['net', 'ls', '--json']));
    const lab = ls.networks.find((n: { name: string }) => n.name === 'lab');
    expect(lab.status).toBe('running');
    expect(lab.ports.map((p: { machine: string }) => p.machine).sort()).toEqual(['a', 'b']);
    expect(lab.ports.every((p: { mac: string }) => /^02:/.test(p.mac))).toBe(true);
    expect(Object.values(lab.leases).sort()).toEqual(['10.0.0.2', '10.0.0.3']);
  });

  it('two machines ping each other by name, with no ifconfig typed', async () => {
    expect((await ping('a', 'b')).out).toMatch(/2 packets received/);
    expect((await ping('b', 'a')).out).toMatch(/2 packets received/);
  });

  it('a machine that boots later is known by name to those already running', async () => {
    await ok(['create', 'c', '--net', 'lab', '--start']);
    expect((await ping('c', 'a')).out).toMatch(/2 packets received/);
    // The running machines' /etc/hosts were refreshed when c booted.
    let out = '';
    for (let i = 0; i < 20 && !/2 packets received/.test(out); i++) {
      out = (await ping('a', 'c')).out;
      if (!/2 packets received/.test(out)) await new Promise((r) => setTimeout(r, 250));
    }
    expect(out).toMatch(/2 packets received/);
    await ok(['rm', '-f', 'c']);
  });

  it('tshark parses the capture of a ping and shows request/reply pairs', async () => {
    const file = join(box.root, 'ping.pcap');
    const capture = umlkit(box, ['net', 'capture', 'lab', '-w', file, '--duration', '8']);
    // The pcap header is written once the switch has the tap: only then ping (a loaded host starts late).
    for (let i = 0; i < 100 && !(existsSync(file) && statSync(file).size >= 24); i++)
      await new Promise((r) => setTimeout(r, 100));
    await ping('a', 'b', 3);
    const r = await capture;
    expect(r.code).toBe(0);
    const text = execFileSync(
      'tshark',
      ['-r', file, '-Y', 'icmp', '-T', 'fields', '-e', 'icmp.type', '-e', 'ip.src', '-e', 'ip.dst'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const lines = text.trim().split('\n');
    expect(lines.filter((l) => l === '8\t10.0.0.2\t10.0.0.3')).toHaveLength(3);
    expect(lines.filter((l) => l === '0\t10.0.0.3\t10.0.0.2')).toHaveLength(3);
    // tcpdump reads it too.
    expect(
      execFileSync('tcpdump', ['-nr', file, 'icmp'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ).toMatch(/ICMP echo reply/);
  });

  it('loss=100% stops ping, loss=0 restores it, while running', async () => {
    expect(await ok(['net', 'impair', 'lab', 'b', 'loss=100%'])).toMatch(/loss=100%/);
    expect((await ping('a', 'b')).out).toMatch(/0 packets received/);
    await ok(['net', 'impair', 'lab', 'b', 'loss=0']);
    expect((await ping('a', 'b')).out).toMatch(/2 packets received/);
    const bad = await umlkit(box, ['net', 'impair', 'lab', 'b', 'loss=250%']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error\[INVALID_IMPAIRMENT\].*`250%`/);
    expectNoStack(bad.stderr);
  });

  it('delay shows in the round trip', async () => {
    await ok(['net', 'impair', 'lab', 'b', 'delay=40ms']);
    const out = (await ping('a', 'b', 2)).out;
    await ok(['net', 'impair', 'lab', 'b', 'clear']);
    const avg = Number(/= [\d.]+\/([\d.]+)\//.exec(out)?.[1]);
    expect(avg).toBeGreaterThanOrEqual(80); // both directions of b's link
  });

  it('hot-plug: connect a second network, disconnect and reconnect while running', async () => {
    await ok(['net', 'create', 'lab2', '--subnet', '192.168.77.0/24']);
    expect(await ok(['net', 'connect', 'lab2', 'a'])).toMatch(/vec1 connected to lab2 \(192\.168\.77\.2\)/);
    expect(await ok(['net', 'connect', 'lab2', 'b'])).toMatch(/vec1 connected to lab2 \(192\.168\.77\.3\)/);
    expect((await ping('a', '192.168.77.3')).out).toMatch(/2 packets received/);
    await ok(['net', 'disconnect', 'lab2', 'b']);
    expect((await ping('a', '192.168.77.3')).out).toMatch(/0 packets received/);
    expect(await ok(['exec', 'b', '--', 'ip', 'link'])).not.toMatch(/vec1/);
    await ok(['net', 'connect', 'lab2', 'b']);
    expect((await ping('a', '192.168.77.3')).out).toMatch(/2 packets received/);
    // The same address again: leases are stable per machine and NIC.
    expect(await ok(['exec', 'b', '--', 'ip', 'addr', 'show', 'vec1'])).toMatch(/192\.168\.77\.3/);
  });

  it('a switch killed with -9 is reported crashed and recovered, and traffic flows again', async () => {
    const before = netState('lab');
    process.kill(before.switch.pid, 'SIGKILL');
    const ls = JSON.parse(await ok(['net', 'ls', '--json']));
    expect(ls.networks.find((n: { name: string }) => n.name === 'lab').status).toBe('crashed');
    // The machines' supervisors restart it within ~2 s on the same UDP port.
    expect(await waitForNetStatus(box, 'lab', 'running')).toBe('running');
    expect(netState('lab').udpPort).toBe(before.udpPort);
    expect((await ping('a', 'b')).out).toMatch(/2 packets received/);
  });

  it('refuses bad --net and -p values with their quote, and removing a network in use', async () => {
    for (const [args, code] of [
      [['run', '--net', 'lab,mac=01:00:00:00:00:01', '--', 'true'], /INVALID_NET_SPEC.*`01:00:00:00:00:01`/],
      [['run', '--net', 'nosuch', '--', 'true'], /NET_NOT_FOUND.*`nosuch`/],
      [['run', '-p', '80', '--', 'true'], /INVALID_PORT_SPEC.*`80`/],
      [['net', 'create', 'x', '--subnet', '10.0.0.1/24'], /INVALID_SUBNET.*`10\.0\.0\.1\/24`/],
      [['net', 'rm', 'lab'], /NET_IN_USE/],
    ] as const) {
      const r = await umlkit(box, [...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(code);
      expect(r.stderr).toMatch(/hint:/);
      expectNoStack(r.stderr);
    }
  });
});
