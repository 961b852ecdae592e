// Debian's linux-source-6.1 in the debug profile: built (or found in the cache) with debug info, and a
// kernel gdb can use at source level: `run --gdb` stops at a breakpoint on a kernel function, shows the
// kernel's own source file in the backtrace, lets the machine run on and power off, and leaves nothing.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrFail, type Cli, kernelCli } from '../helpers/kernel-tier.ts';

let cli: Cli;
let kernel: string;

beforeAll(() => {
  cli = kernelCli();
  kernel = buildOrFail(cli, ['--version', '6.1', '--profile', 'debug']);
});
afterAll(() => cli.dispose());

describe('debug-profile 6.1 from Debian linux-source-6.1', () => {
  it('carries DWARF debug info and says so in kernel info', () => {
    const sections = execFileSync('readelf', ['-S', '-W', kernel], { encoding: 'utf8' });
    expect(sections).toContain('.debug_info');
    expect(sections).toContain('.debug_line');
    const info = cli.run(['kernel', 'info', kernel]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/profile\s+debug/);
    expect(info.stdout).toMatch(/debug info\s+CONFIG_DEBUG_INFO=y/);
  });

  it('stops at a kernel breakpoint under run --gdb, with source lines, then runs the command to the end', () => {
    const r = cli.run(
      [
        'run',
        '--kernel',
        kernel,
        '--gdb',
        '--gdb-ex',
        'tbreak do_exit',
        '--gdb-ex',
        'continue',
        '--gdb-ex',
        'bt 2',
        '--',
        // gdb reads ~70 MB of symbols before it attaches: the command outlives that.
        'sh',
        '-c',
        'sleep 4; echo guest-ran-$((6 * 7))',
      ],
      { timeoutMs: 180_000 },
    );
    const all = `${r.stdout}\n${r.stderr}`;
    expect(r.code, all).toBe(0);
    expect(all).toMatch(/Temporary breakpoint 1, do_exit \(/);
    expect(all).toMatch(/#0 +do_exit .* at .*kernel\/exit\.c:\d+/s);
    expect(all).toContain('guest-ran-42');
    expect(all).toMatch(/exited normally/);
    // pgrep leaves itself out; it exits 1 when nothing matches.
    const left = (() => {
      try {
        return execFileSync('pgrep', ['-f', kernel], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    })();
    expect(left).toBe('');
  });
});
