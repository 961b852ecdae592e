import { describe, expect, it } from 'vitest';
import type { Command } from './command.ts';
import { parseCommandArgs, renderHelp } from './parse-args.ts';

const cmd: Command = {
  name: 'run',
  summary: 's',
  usage: 'u',
  commandAfterPositionals: 0,
  options: [
    { name: 'mem', type: 'string', value: 'SIZE', description: 'memory' },
    { name: 'disk', type: 'string', multiple: true, description: 'disk' },
    { name: 'tty', short: 't', type: 'boolean', description: 'tty' },
    { name: 'interactive', short: 'i', type: 'boolean', description: 'i' },
    { name: 'env', short: 'e', type: 'string', multiple: true, description: 'env' },
  ],
  run: async () => 0,
};

describe('parseCommandArgs', () => {
  it('splits options from the guest command at --', () => {
    const a = parseCommandArgs(cmd, ['--mem', '64M', '--disk=a', '--disk', 'b', '--', 'ls', '-la', '--mem']);
    expect(a.values).toEqual({ mem: '64M', disk: ['a', 'b'] });
    expect(a.rest).toEqual(['ls', '-la', '--mem']);
  });
  it('starts the guest command at the first word without --', () => {
    expect(parseCommandArgs(cmd, ['-it', 'sh', '-c', 'x']).rest).toEqual(['sh', '-c', 'x']);
    expect(parseCommandArgs(cmd, ['-it', 'sh']).values).toEqual({ interactive: true, tty: true });
  });
  it('takes attached and separate short values', () => {
    expect(parseCommandArgs(cmd, ['-eA=1', '-e', 'B=2']).values.env).toEqual(['A=1', 'B=2']);
  });
  it('names the unknown option and points at --help', () => {
    expect(() => parseCommandArgs(cmd, ['--memory', '1G'])).toThrow(/unknown option `--memory`/);
    expect(() => parseCommandArgs(cmd, ['-x'])).toThrow(
      expect.objectContaining({ code: 'USAGE', hint: 'see `umlkit run --help`' }),
    );
  });
  it('says which option lacks its value', () => {
    expect(() => parseCommandArgs(cmd, ['--mem'])).toThrow(/`--mem` needs a value \(SIZE\)/);
    expect(() => parseCommandArgs(cmd, ['--tty=yes'])).toThrow(/takes no value/);
  });
  it('renders help from the same table', () => {
    const help = renderHelp(cmd);
    expect(help).toContain('--mem SIZE');
    expect(help).toContain('-t, --tty');
    expect(help).toContain('(repeatable)');
  });
});
