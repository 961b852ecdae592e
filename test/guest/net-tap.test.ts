// `--net tap:IFNAME` against a real kernel, in a network namespace this test creates (root only: tap is
// the optional path for users with CAP_NET_ADMIN; on this host /dev/net/tun is not open to other users).
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, createSandbox, ensureTestUser, type Sandbox } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
let box: Sandbox | undefined;
beforeAll(() => {
  if (user) box = createSandbox();
});
afterAll(() => {
  box?.assertClean();
  box?.dispose();
});

it.skipIf(!user)('a guest pings the host end of a tap in a private network namespace', () => {
  const b = box as Sandbox;
  const env = Object.entries(b.env).map(([k, v]) => `${k}=${v}`);
  const script = [
    'set -e',
    'ip link set lo up',
    'ip tuntap add dev uktap0 mode tap',
    'ip addr add 10.99.0.1/24 dev uktap0',
    'ip link set uktap0 up',
    // The sandbox shows the kernel no /dev/net/tun: tap NICs run unsandboxed (docs/networking.md).
    `env -i ${env.join(' ')} ${process.execPath} ${BIN} run --no-sandbox --net tap:uktap0 -- sh -c 'ip link set vec0 up && ip addr add 10.99.0.2/24 dev vec0 && ping -c 2 10.99.0.1'`,
  ].join('\n');
  const r = spawnSync('unshare', ['--net', '--', 'sh', '-c', script], {
    encoding: 'utf8',
    cwd: b.root,
    timeout: 90_000,
  });
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/2 packets received/);
  // The namespace (and its tap) went with the unshare'd shell.
  expect(execFileSync('ip', ['link'], { encoding: 'utf8' })).not.toMatch(/uktap0/);
});
