import { describe, expect, it } from 'vitest';
import { parseNicSpec, parsePortForward, withUplinkForPorts } from './nic-spec.ts';

describe('--net', () => {
  it('parses switch, user, tap and daemon NICs', () => {
    expect(parseNicSpec('lab')).toEqual({ kind: 'switch', net: 'lab', ip: 'auto' });
    expect(parseNicSpec('lab,mac=02:AA:00:00:00:01,ip=10.0.0.9')).toEqual({
      kind: 'switch',
      net: 'lab',
      ip: '10.0.0.9',
      mac: '02:aa:00:00:00:01',
    });
    expect(parseNicSpec('user')).toEqual({ kind: 'user' });
    expect(parseNicSpec('tap:tap0')).toEqual({ kind: 'tap', ifname: 'tap0' });
    expect(parseNicSpec('daemon:/tmp/sw.ctl')).toEqual({ kind: 'daemon', socket: '/tmp/sw.ctl' });
  });
  it('takes the transport of a switch port', () => {
    expect(parseNicSpec('lab,transport=daemon')).toEqual({
      kind: 'switch',
      net: 'lab',
      ip: 'auto',
      transport: 'daemon',
    });
    expect(parseNicSpec('lab,transport=l2tpv3')).toEqual({ kind: 'switch', net: 'lab', ip: 'auto' });
    expect(() => parseNicSpec('lab,transport=vde')).toThrow(/`vde` is not `l2tpv3` or `daemon`/);
    expect(() => parseNicSpec('user,transport=daemon')).toThrow(/L2TPv3/);
    expect(() => parseNicSpec('tap:t0,transport=daemon')).toThrow(/own networks/);
  });
  it('quotes the bad value', () => {
    expect(() => parseNicSpec('lab,mac=01:00:00:00:00:00')).toThrow(/`01:00:00:00:00:00`/);
    expect(() => parseNicSpec('lab,speed=1')).toThrow(/`speed`/);
    expect(() => parseNicSpec('Lab!')).toThrow(/INVALID|network name/);
    expect(() => parseNicSpec('user,ip=1.2.3.4')).toThrow();
  });
});

describe('-p', () => {
  it('defaults to 127.0.0.1 and tcp', () => {
    expect(parsePortForward('8080:80')).toEqual({
      protocol: 'tcp',
      hostIp: '127.0.0.1',
      hostPort: 8080,
      guestPort: 80,
    });
    expect(parsePortForward('127.0.0.2:53:53/udp')).toEqual({
      protocol: 'udp',
      hostIp: '127.0.0.2',
      hostPort: 53,
      guestPort: 53,
    });
    expect(() => parsePortForward('80')).toThrow(/`80`/);
    expect(() => parsePortForward('70000:80')).toThrow();
  });
  it('adds an uplink when ports are published', () => {
    expect(withUplinkForPorts([], [parsePortForward('1:2')])).toEqual([{ kind: 'user' }]);
    expect(withUplinkForPorts([{ kind: 'user' }], [parsePortForward('1:2')])).toHaveLength(1);
  });
});
