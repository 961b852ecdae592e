import { describe, expect, it } from 'vitest';
import { allocateAddress, formatIpv4, isAssignable, parseIpv4, parseSubnet } from './subnet.ts';

describe('subnet', () => {
  it('parses, refuses host bits and bad prefixes', () => {
    expect(parseSubnet('10.0.0.0/24')).toEqual({ network: parseIpv4('10.0.0.0'), prefix: 24 });
    expect(() => parseSubnet('10.0.0.1/24')).toThrow(/host bits/);
    expect(() => parseSubnet('10.0.0.0/31')).toThrow(/prefix/);
    expect(() => parseSubnet('10.0.0/24')).toThrow(/prefix/);
  });
  it('allocates from .2, skips taken, never the gateway or broadcast', () => {
    const s = parseSubnet('10.0.0.0/30');
    const two = parseIpv4('10.0.0.2') as number;
    expect(formatIpv4(allocateAddress(s, new Set()) as number)).toBe('10.0.0.2');
    expect(allocateAddress(s, new Set([two]))).toBeUndefined();
    expect(isAssignable(s, parseIpv4('10.0.0.1') as number)).toBe(false);
    expect(isAssignable(s, parseIpv4('10.0.0.3') as number)).toBe(false);
  });
});
