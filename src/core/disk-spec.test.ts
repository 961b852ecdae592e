import { describe, expect, it } from 'vitest';
import { checkKernelPath, parseDiskSpec, ubdDevice } from './disk-spec.ts';
import { mergeEnv, parseEnvSpec } from './env-spec.ts';
import { isUmlError } from './errors.ts';

describe('parseDiskSpec', () => {
  it('reads PATH, PATH:ro and PATH:rw', () => {
    expect(parseDiskSpec('data.ext4')).toEqual({ path: 'data.ext4', readonly: false });
    expect(parseDiskSpec('/a/b.img:ro')).toEqual({ path: '/a/b.img', readonly: true });
    expect(parseDiskSpec('b.img:rw')).toEqual({ path: 'b.img', readonly: false });
  });
  it.each(['', ':ro', 'x.img:rx', 'x.img:'])('refuses %j', (text) => {
    expect(() => parseDiskSpec(text)).toThrow(expect.objectContaining({ code: 'INVALID_DISK_SPEC' }));
  });
});

describe('checkKernelPath', () => {
  it.each(['/a,b', '/a:b', '/a b', '/a"b'])('refuses %j, which UML cannot parse', (p) => {
    try {
      checkKernelPath(p, 'disk');
      expect.unreachable();
    } catch (e) {
      expect(isUmlError(e, 'PATH_UNSUPPORTED')).toBe(true);
    }
  });
  it('accepts plain paths', () => {
    expect(checkKernelPath('/tmp/x-1_2.img', 'disk')).toBe('/tmp/x-1_2.img');
  });
});

describe('ubdDevice', () => {
  it('names units a..p', () => {
    expect(ubdDevice(0)).toBe('/dev/ubda');
    expect(ubdDevice(1)).toBe('/dev/ubdb');
    expect(ubdDevice(15)).toBe('/dev/ubdp');
  });
});

describe('env specs', () => {
  it('parses NAME=VALUE and bare NAME', () => {
    expect(parseEnvSpec('A=1=2')).toEqual({ name: 'A', value: '1=2' });
    expect(parseEnvSpec('HOME')).toEqual({ name: 'HOME', value: undefined });
    expect(parseEnvSpec('E=')).toEqual({ name: 'E', value: '' });
  });
  it.each(['=x', '1A=2', 'A-B=c', ''])('refuses %j', (t) => {
    expect(() => parseEnvSpec(t)).toThrow(expect.objectContaining({ code: 'INVALID_ENV' }));
  });
  it('lets later entries win over defaults', () => {
    expect(
      mergeEnv({ PATH: '/bin', HOME: '/root' }, [
        { name: 'HOME', value: '/x' },
        { name: 'Z', value: '1' },
      ]),
    ).toEqual(['PATH=/bin', 'HOME=/x', 'Z=1']);
  });
});
