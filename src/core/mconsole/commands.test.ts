// The typed command builders: the exact text for each 6.1 command, and the kernel's prefix matching.
import { describe, expect, it } from 'vitest';
import * as c from './commands.ts';

describe('command builders', () => {
  it('build every 6.1 command', () => {
    expect([c.version(), c.help(), c.halt(), c.reboot(), c.cad(), c.stop(), c.go()]).toEqual([
      'version',
      'help',
      'halt',
      'reboot',
      'cad',
      'stop',
      'go',
    ]);
    expect(c.sysrq('s')).toBe('sysrq s');
    expect(c.config('ubdb')).toBe('config ubdb');
    expect(c.config('mem')).toBe('config mem');
    expect(c.configSet('con3', 'pts')).toBe('config con3=pts');
    expect(c.configDisk({ index: 1, file: '/d/data.img' })).toBe('config ubd1=/d/data.img');
    expect(c.configDisk({ index: 'c', file: '/d/base.img', cow: '/d/o.cow', readOnly: true })).toBe(
      'config ubd2r=/d/o.cow,/d/base.img',
    );
    expect(c.configNic(1, 'mcast')).toBe('config eth1=mcast');
    expect(c.remove('ubd1')).toBe('remove ubd1');
    expect(c.log('hello\n')).toBe('log hello\n');
    expect(c.proc('meminfo')).toBe('proc meminfo');
    expect(c.stack(1)).toBe('stack 1');
  });

  it('refuse what the kernel would misread', () => {
    expect(() => c.sysrq('ss')).toThrow(/one letter/);
    expect(() => c.config('ubd 1')).toThrow(/not an mconsole device/);
    expect(() => c.configDisk({ index: 16, file: '/x' })).toThrow(/0\.\.15/);
    expect(() => c.configDisk({ index: 0, file: '/a,b' })).toThrow(/comma/);
    expect(() => c.stack(0)).toThrow(/positive/);
    expect(() => c.proc('net dev')).toThrow(/spaces/);
    expect(() => c.log('x'.repeat(508))).toThrow(/limit is 511/);
  });

  it('name the command the kernel runs, by its first-prefix rule', () => {
    expect(c.kernelCommandOf('versionXYZ')).toBe('version');
    expect(c.kernelCommandOf('gox')).toBe('go');
    expect(c.kernelCommandOf('config ubd1=/x')).toBe('config');
    expect(c.kernelCommandOf('bogus')).toBeUndefined();
  });
});
