// The newest UML source Debian offers (sid's linux-source-X), built on this Debian 12 host, booted with
// seccomp=on after its calibration found the mode works here.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, buildOrFail, type Cli, kernelCli } from '../helpers/kernel-tier.ts';

let cli: Cli;
let kernel: string;

beforeAll(() => {
  cli = kernelCli();
  kernel = buildOrFail(cli, ['--version', 'newest', '--profile', 'fast']);
});
afterAll(() => cli.dispose());

describe("sid's newest linux-source, fast profile", () => {
  it('has the seccomp mode, and umlkit boots it with seccomp=on: no stub is ptraced', async () => {
    const info = JSON.parse(cli.run(['kernel', 'info', kernel, '--json']).stdout) as Record<string, unknown>;
    expect(info.seccompMode).toBe('ok');
    expect(info.bootArgs).toContain('seccomp=on');
    const seen = await stubTracers(cli);
    expect(seen.kernelArgv).toContain('seccomp=on');
    expect(seen.tracers.length).toBeGreaterThan(0);
    expect(seen.tracers.every((t) => t === 0)).toBe(true);
  });

  it('runs fork/exec-heavy guest work and the demo in seccomp mode', () => {
    const r = cli.run([
      'run',
      '--kernel',
      kernel,
      '--',
      'sh',
      '-c',
      'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; echo $i; echo x | gzip | gunzip',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('200\nx\n');
    expect(cli.run(['demo', '--kernel', kernel], { timeoutMs: 300_000 }).code).toBe(0);
  });

  it('still boots in ptrace mode when seccomp is turned off', async () => {
    const off = kernelCli({ UMLKIT_KERNEL_SECCOMP: 'off' });
    try {
      const seen = await stubTracers(off);
      expect(seen.kernelArgv).not.toContain('seccomp=on');
      expect(seen.tracers.length).toBeGreaterThan(0);
      expect(seen.tracers.every((t) => t > 0)).toBe(true);
    } finally {
      off.dispose();
    }
  });
});

/**
 * While a guest sleeps, the host view of this kernel's processes: the kernel's argv (UML strips its own
 * options from the guest's /proc/cmdline, so the host side is where seccomp=on shows) and the TracerPid of
 * each stub (memfd:uml-userspace): the kernel in ptrace mode, 0 in seccomp mode.
 */
async function stubTracers(c: Cli): Promise<{ kernelArgv: string[]; tracers: number[] }> {
  const child = spawn(process.execPath, [BIN, 'run', '--kernel', kernel, '--', 'sleep', '3'], { env: c.env });
  const exited = new Promise((r) => child.on('exit', r));
  let result = { kernelArgv: [] as string[], tracers: [] as number[] };
  for (let i = 0; i < 40 && result.tracers.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    const exe = (p: string): string => {
      try {
        return readlinkSync(`/proc/${p}/exe`);
      } catch {
        return '';
      }
    };
    const status = (p: string, field: string): number =>
      Number(
        new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? -1,
      );
    const kernels = procs.filter((p) => exe(p) === kernel);
    for (const k of kernels) {
      const stubs = procs.filter((p) => exe(p).includes('uml-userspace') && String(status(p, 'PPid')) === k);
      if (stubs.length === 0) continue;
      result = {
        kernelArgv: readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0'),
        tracers: stubs.map((s) => status(s, 'TracerPid')),
      };
    }
  }
  await exited;
  return result;
}
