import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkConfig,
  configSummary,
  describeMismatch,
  parseDotConfig,
  parseFragment,
} from './kernel-config.ts';

const profile = (name: string): string =>
  readFileSync(join(import.meta.dirname, '..', '..', 'kernel', 'profiles', name), 'utf8');

describe('kernel config fragments', () => {
  it('parse set and unset lines with the need of their heading', () => {
    const f = parseFragment(
      [
        '# top: wanted by default',
        '# CONFIG_MODULES is not set',
        'CONFIG_LOG_BUF_SHIFT=14',
        '# require: the agent',
        'CONFIG_DEVTMPFS=y',
        '# a comment inside the section keeps it',
        'CONFIG_CON_CHAN="pts"',
        '# optional:',
        'CONFIG_UML_TIME_TRAVEL_SUPPORT=y',
        'not a config line',
      ].join('\n'),
      'x.config',
    );
    expect(f.map((e) => [e.symbol, e.value, e.need, e.line])).toEqual([
      ['MODULES', 'n', 'want', 2],
      ['LOG_BUF_SHIFT', '14', 'want', 3],
      ['DEVTMPFS', 'y', 'require', 5],
      ['CON_CHAN', '"pts"', 'require', 7],
      ['UML_TIME_TRAVEL_SUPPORT', 'y', 'optional', 9],
    ]);
  });

  it('check only the last word on each symbol, absent meaning off', () => {
    const config = parseDotConfig('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x"\n');
    const entries = [
      ...parseFragment('# require:\nCONFIG_A=y\nCONFIG_B=y\nCONFIG_D=y\n', 'one'),
      ...parseFragment('# CONFIG_B is not set\n# CONFIG_E is not set\nCONFIG_C="y"\n', 'two'),
    ];
    const m = checkConfig(config, entries);
    expect(m.map((x) => [x.entry.symbol, x.entry.need, x.actual])).toEqual([
      ['D', 'require', 'n'],
      ['C', 'want', '"x"'],
    ]);
    expect(describeMismatch(m[0] as (typeof m)[0])).toBe('CONFIG_D =y (one:4) ended up off');
  });

  it("the profiles require everything umlkit's agent and run need", () => {
    for (const name of ['fast.config', 'full.config']) {
      const required = parseFragment(profile(name), name)
        .filter((e) => e.need === 'require')
        .map((e) => e.symbol);
      for (const s of ['BLK_DEV_INITRD', 'DEVTMPFS', 'PROC_FS', 'SYSFS', 'EXT4_FS', 'BLK_DEV_UBD', 'SSL']) {
        expect(required).toContain(s);
      }
      for (const s of ['NULL_CHAN', 'MCONSOLE', 'TTY', 'UNIX', 'SIGNALFD', 'UNIX98_PTYS', 'HOSTFS']) {
        expect(required).toContain(s);
      }
    }
    const fast = parseFragment(profile('fast.config'), 'fast');
    // What costs boot time is off in fast.
    for (const s of ['MODULES', 'BTRFS_FS', 'MD']) expect(fast.find((e) => e.symbol === s)?.value).toBe('n');
    expect(fast.find((e) => e.symbol === 'UML_TIME_TRAVEL_SUPPORT')?.need).toBe('optional');
    const debug = parseFragment(profile('debug.config'), 'debug');
    expect(debug.find((e) => e.symbol === 'DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT')?.need).toBe('require');
  });

  it('summarise a config for kernel info', () => {
    const s = configSummary(parseDotConfig('CONFIG_HZ=100\nCONFIG_EXT4_FS=y\n'));
    expect(s.HZ).toBe('100');
    expect(s.EXT4_FS).toBe('y');
    expect(s.MODULES).toBe('n');
  });
});
