// The CLI surface without a guest: help that teaches, usage errors with exit 2, versions.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.ts';
import { type CliOutcome, runCliInProcess } from '../helpers/in-process-cli.ts';

const cli = (argv: string[]): Promise<CliOutcome> =>
  runCliInProcess(argv, { PATH: process.env.PATH }, process.cwd());

describe('help', () => {
  it('lists every command with a summary', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS.filter((x) => !x.hidden)) expect(r.out).toContain(c.name);
  });

  it('shows per-command help with options and examples, for every command', async () => {
    for (const c of COMMANDS) {
      const r = await cli([...c.name.split(' '), '--help']);
      expect(r.code, c.name).toBe(0);
      expect(r.out, c.name).toContain(`Usage: umlkit ${c.name}`);
      expect(r.out, c.name).toContain('--help');
    }
  });

  it('lists a noun group', async () => {
    const r = await cli(['disk', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('disk create');
    expect(r.out).toContain('disk cat');
  });

  it('exits 2 with a hint on an unknown command', async () => {
    const r = await cli(['disk', 'frob']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error\[USAGE\]: unknown command `disk frob`\nhint: one of: disk create/);
  });

  it('prints the version', async () => {
    expect((await cli(['--version'])).out).toMatch(/^umlkit \d+\.\d+\.\d+\n$/);
  });
});
