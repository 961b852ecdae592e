// Daemon ports against Debian's 6.1 kernel, sandboxed, as the unprivileged test user: NICs on the legacy
// daemon transport (`--net NET,transport=daemon`, what uml_switch's guests use) beside an L2TPv3 NIC on
// the same switch; a NIC brought down and up; hot-plug; an ephemeral run; and a switch
// killed with -9 that comes back with the same data socket, so the daemon ports talk again.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { switchProcesses } from '../helpers/net-procs.ts';
import { waitForNetStatus } from '../helpers/net-status.ts';
import { createSandbox, ensureTestUser, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox;

async function ok(args: string[]): Promise<string> {
  const r = await umlkit(box, args);
  if (r.code !== 0) throw new Error(`umlkit ${args.join(' ')} → ${r.code}: ${r.stderr}`);
  return r.stdout.toString();
}

const ping = async (from: string, to: string): Promise<string> => {
  const r = await umlkit(box, ['exec', from, '--', 'ping', '-c', '2', '-W', '2', to]);
  return r.stdout.toString() + r.stderr;
};

const netState = (net: string) =>
  JSON.parse(readFileSync(join(box.stateDir, 'nets', net, 'state.json'), 'utf8'));

beforeAll(async () => {
  box = createSandbox(user ? { user } : {});
  await ok(['net', 'create', 'dl', '--subnet', '10.0.5.0/24']);
  await ok(['create', 'a', '--net', 'dl,transport=daemon']);
  await ok(['create', 'b', '--net', 'dl,transport=daemon']);
  await ok(['create', 'c', '--net', 'dl']);
  await ok(['start', 'a', 'b', 'c']);
});

afterAll(async () => {
  if (!box) return;
  try {
    expect((await umlkit(box, ['rm', '-f', 'a', 'b', 'c'])).code).toBe(0);
    expect((await umlkit(box, ['net', 'rm', 'dl', 'dl2'])).code).toBe(0);
    expect(switchProcesses(box.stateDir)).toEqual([]);
    box.assertClean();
  } finally {
    for (const pid of switchProcesses(box.stateDir)) process.kill(pid, 'SIGKILL');
    box.dispose();
  }
});

describe('daemon ports on our switch', () => {
  it('machines on daemon NICs ping each other and an L2TPv3 machine by name', async () => {
    expect(await ping('a', 'b')).toMatch(/2 packets received/);
    expect(await ping('c', 'a')).toMatch(/2 packets received/);
    expect(await ping('b', 'c')).toMatch(/2 packets received/);
    const net = JSON.parse(await ok(['net', 'inspect', 'dl', '--json']));
    const ports = Object.fromEntries(
      net.ports.map((p: { machine: string; device: string; transport: string }) => [
        p.machine,
        `${p.device} ${p.transport}`,
      ]),
    );
    expect(ports).toEqual({ a: 'eth0 daemon', b: 'eth0 daemon', c: 'vec0 l2tpv3' });
    // The control socket is in the machine's run dir, which its sandbox shows.
    const record = netState('dl').ports.find((p: { machine: string }) => p.machine === 'a');
    expect(record.daemon.ctl).toMatch(/\/net0\.ctl$/);
    expect(existsSync(record.daemon.ctl)).toBe(true);
    expect(record.daemon.address).toMatch(/^00[0-9a-f]{214}$/);
    expect(JSON.parse(await ok(['inspect', 'a', '--json'])).machines[0].sandbox.enabled).toBe(true);
  });

  it('a NIC taken down and up keeps its data socket and talks again', async () => {
    // The daemon driver registers once, when the device is made (boot or hot-plug), not at each up.
    const before = netState('dl').ports.find((p: { machine: string }) => p.machine === 'a').daemon.address;
    await ok(['exec', 'a', '--', 'sh', '-c', 'ip link set eth0 down && ip link set eth0 up']);
    expect(await ping('a', 'b')).toMatch(/2 packets received/);
    const after = netState('dl').ports.find((p: { machine: string }) => p.machine === 'a').daemon.address;
    expect(after).toBe(before);
  });

  it('hot-plugs a daemon NIC as ethN and unplugs it', async () => {
    await ok(['net', 'create', 'dl2', '--subnet', '10.0.6.0/24']);
    expect(await ok(['net', 'connect', 'dl2', 'a', '--transport', 'daemon'])).toMatch(
      /a eth1 connected to dl2 \(10\.0\.6\.2\)/,
    );
    expect(await ok(['net', 'connect', 'dl2', 'c'])).toMatch(/c vec1 connected to dl2 \(10\.0\.6\.3\)/);
    expect(await ping('c', '10.0.6.2')).toMatch(/2 packets received/);
    await ok(['net', 'disconnect', 'dl2', 'a']);
    expect(await ok(['exec', 'a', '--', 'ip', 'link'])).not.toMatch(/eth1/);
    expect(await ping('c', '10.0.6.2')).toMatch(/0 packets received/);
    await ok(['net', 'disconnect', 'dl2', 'c']);
  });

  it('an ephemeral run joins on a daemon NIC', async () => {
    const r = await umlkit(box, [
      'run',
      '--net',
      'dl,transport=daemon',
      '--',
      'ping',
      '-c',
      '2',
      '-W',
      '2',
      'b',
    ]);
    expect(r.stdout.toString()).toMatch(/2 packets received/);
    expect(r.code).toBe(0);
  });

  it('a switch killed with -9 comes back with the same data socket, and the daemon ports talk again', async () => {
    const before = netState('dl');
    process.kill(before.switch.pid, 'SIGKILL');
    expect(await waitForNetStatus(box, 'dl', 'running')).toBe('running');
    expect(netState('dl').daemonName).toBe(before.daemonName);
    expect(await ping('a', 'b')).toMatch(/2 packets received/);
    expect(await ping('c', 'b')).toMatch(/2 packets received/);
  });
});
