import { describe, expect, it } from 'vitest';
import { guestConfigScript } from './net-attach.ts';

describe('guestConfigScript', () => {
  it('brings NICs up with their addresses and replaces only its own network block of /etc/hosts', () => {
    const s = guestConfigScript([
      { device: 'vec0', ip: '10.0.0.2', prefix: 24, hosts: { a: '10.0.0.2', b: '10.0.0.3' }, net: 'lab' },
      { device: 'vec1', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3' },
    ]);
    expect(s).toContain('ip link set vec0 up');
    expect(s).toContain('ip addr add 10.0.0.2/24 dev vec0');
    expect(s).toContain("grep -v ' # umlkit:lab$' /etc/hosts");
    expect(s).toContain('10.0.0.3 b # umlkit:lab');
    expect(s).toContain('ip route replace default via 10.0.2.2 dev vec1');
    expect(s).toContain("echo 'nameserver 10.0.2.3' > /etc/resolv.conf");
    expect(s).not.toContain('umlkit:undefined');
  });
});
