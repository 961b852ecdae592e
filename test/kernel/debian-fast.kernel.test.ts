// Debian's linux-source-6.1 in the fast profile: built (or found in the cache), and every promise made for
// it: it runs `umlkit run` and the demo, gets past its first userspace process on this AVX-512/AMX host
// without the shim, reports itself in `kernel info`, calibrates lpj, and is cached by its inputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bareBoot, buildOrFail, type Cli, kernelCli } from '../helpers/kernel-tier.ts';

let cli: Cli;
let kernel: string;

beforeAll(() => {
  cli = kernelCli();
  kernel = buildOrFail(cli, ['--version', '6.1', '--profile', 'fast']);
});
afterAll(() => cli.dispose());

describe('fast-profile 6.1 from Debian linux-source-6.1', () => {
  it('is cached: the same build again is instant and names the same kernel', () => {
    const t = performance.now();
    const r = cli.run(['kernel', 'build', '--version', '6.1', '--no-check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/is already built/);
    expect(r.stdout.trim().split('\t')[1]).toBe(kernel);
    expect(performance.now() - t).toBeLessThan(20_000);
  });

  it('gets past its first userspace process with no shim (the XSAVE patch)', () => {
    const out = bareBoot(kernel);
    expect(out).toContain('INIT_START');
    expect(out).toMatch(/CHILD 3\.\d+/);
    expect(out).toContain('CHILD_DONE 0');
    expect(out).not.toContain('ptrace set fp regs failed');
  });

  it('runs commands through umlkit run, with exit codes, streams and its lpj', () => {
    expect(cli.run(['run', '--kernel', kernel, '--', 'true']).code).toBe(0);
    const r = cli.run([
      'run',
      '--kernel',
      kernel,
      '--',
      'sh',
      '-c',
      'uname -r; cat /proc/cmdline; echo err >&2; exit 3',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^6\.1\.\d+/);
    expect(r.stderr).toContain('err');
    // The build's smoke boot calibrated it: later boots skip the delay loop.
    expect(r.stdout).toMatch(/\blpj=\d+/);
    const echo = cli.run(['run', '--kernel', kernel, '--', 'tr', 'a-z', 'A-Z'], { input: 'hello\n' });
    expect(echo.stdout).toBe('HELLO\n');
  });

  it('runs the demo', () => {
    const r = cli.run(['demo', '--kernel', kernel], { timeoutMs: 300_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('is listed, described and usable by name', () => {
    const ls = cli.run(['kernel', 'ls', '--json']);
    const built = (
      JSON.parse(ls.stdout) as { kernels: { name: string; path: string; profile: string }[] }
    ).kernels.find((k) => k.path === kernel);
    expect(built?.profile).toBe('fast');
    const info = JSON.parse(cli.run(['kernel', 'info', kernel, '--json']).stdout) as Record<string, unknown>;
    expect(info.kernelVersion).toMatch(/^6\.1\./);
    expect(info.profile).toBe('fast');
    expect(info.timeTravel).toBe(true);
    expect(info.seccompMode).toBe('no');
    expect((info.config as Record<string, string>).MODULES).toBe('n');
    expect((info.config as Record<string, string>).BTRFS_FS).toBe('n');
    expect(JSON.stringify(info.patches)).toContain('xsave');
    // No RAID6 in the fast profile, so no RAID6 trim; it keeps the default legacy ptys, so it gets that one.
    expect(info.bootArgs).toEqual(['pty.legacy_count=0', expect.stringMatching(/^lpj=\d+$/)]);
    const byName = cli.run(['run', '--kernel', built?.name as string, '--', 'true']);
    expect(byName.code, byName.stderr).toBe(0);
  });

  it('boots to a powered-off machine in well under the Debian kernel', () => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const r = cli.run(['run', '--kernel', kernel, '--', 'true']);
      expect(r.code, r.stderr).toBe(0);
      times.push(performance.now() - t);
    }
    // The goal (≤ 100 ms for the kernel itself) is measured by bench/kernel.mjs; here: the whole CLI round
    // trip stays far below Debian's 1.3-1.6 s boot.
    expect(Math.min(...times)).toBeLessThan(900);
  });
});
