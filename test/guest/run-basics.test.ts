// `umlkit run` against the real kernel: exit codes, separated streams, stdin, disks, cleanup.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveKernel } from '../../src/host/kernel.ts';
import { kernelFeatures } from '../../src/host/kernel-features.ts';
import { resolvePaths } from '../../src/host/paths.ts';
import { createSandbox, expectNoStack, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

let box: Sandbox;
beforeAll(() => {
  box = createSandbox();
});
afterEach(() => box.assertClean());
afterAll(() => box.dispose());

describe('exit codes', () => {
  it.each([
    ['true', 0],
    ['exit 3', 3],
    ['exit 255', 255],
    ['kill -TERM $$', 128 + 15],
    ['kill -KILL $$', 128 + 9],
  ])('`%s` exits %i', async (script, code) => {
    const r = await umlkit(box, ['run', '--', 'sh', '-c', script]);
    expect(r.code).toBe(code);
    expect(r.stderr).toBe('');
  });

  it('reports a command that is not in the guest with 127 and says so', async () => {
    const r = await umlkit(box, ['run', '--', 'no-such-command', 'x']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('`no-such-command`: command not found in the guest');
    expectNoStack(r.stderr);
  });
});

describe('boot trims', () => {
  it("boots Debian's kernel without its RAID6 benchmark and BSD ptys; Unix98 ptys still work", async () => {
    const r = await umlkit(box, [
      'run',
      '--',
      'sh',
      '-c',
      'cat /proc/cmdline; echo "raid6 lines: $(dmesg | grep -c "raid6: using")"; ls /dev | grep -c "^pty[p-za-e]"; test -c /dev/ptmx && echo ptmx',
    ]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    const features = kernelFeatures(resolveKernel(undefined, resolvePaths(box.env), box.env).path);
    expect(out.includes('initcall_blacklist=raid6_select_algo')).toBe(features.raid6Benchmark);
    expect(out.includes('pty.legacy_count=0')).toBe(features.legacyPtys);
    expect(out).toContain('raid6 lines: 0');
    expect(out).toMatch(/\n0\nptmx\n$/);
  });
});

describe('streams', () => {
  it('keeps 10 MB of stdout and 10 MB of stderr apart, byte for byte, written at the same time', async () => {
    const size = 10 * 1024 * 1024;
    const out = randomBytes(size);
    const err = randomBytes(size);
    writeFileSync(join(box.root, 'out.bin'), out);
    writeFileSync(join(box.root, 'err.bin'), err);
    // The guest reads both files from raw disks and writes them concurrently to its stdout and stderr.
    const r = await umlkit(box, [
      'run',
      '--disk',
      'out.bin:ro',
      '--disk',
      'err.bin:ro',
      '--',
      'sh',
      '-c',
      `head -c ${size} /dev/ubdc >&2 & head -c ${size} /dev/ubdb; wait`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(size);
    expect(r.stdout.equals(out)).toBe(true);
    expect(r.stderrBytes.length).toBe(size);
    expect(r.stderrBytes.equals(err)).toBe(true);
  });

  it('delivers binary stderr unchanged', async () => {
    const size = 1024 * 1024;
    const err = randomBytes(size);
    writeFileSync(join(box.root, 'e1.bin'), err);
    const r = await umlkit(box, [
      'run',
      '--disk',
      'e1.bin:ro',
      '--',
      'sh',
      '-c',
      `head -c ${size} /dev/ubdb >&2`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
    expect(r.stderrBytes.equals(err)).toBe(true);
  });

  it('streams stdin to the command and its output back unchanged', async () => {
    const input = randomBytes(1024 * 1024);
    const r = await umlkit(box, ['run', '--', 'cat'], { input });
    expect(r.code).toBe(0);
    expect(r.stdout.equals(input)).toBe(true);
  });

  it('signals end of stdin', async () => {
    const r = await umlkit(box, ['run', '--', 'wc', '-c'], { input: 'hello\n' });
    expect(r.stdout.toString().trim()).toBe('6');
  });

  it('passes environment, working directory and arguments as given', async () => {
    const r = await umlkit(box, [
      'run',
      '-e',
      'GREETING=hi there',
      '-w',
      '/etc',
      '--',
      'sh',
      '-c',
      'echo "$GREETING|$PWD|$0|$1"',
      'a b',
      'c d',
    ]);
    expect(r.stdout.toString()).toBe('hi there|/etc|a b|c d\n');
  });
});

describe('disks', () => {
  it('attaches disks as ubdb, ubdc and keeps what the guest wrote, read back from the host', async () => {
    expect((await umlkit(box, ['disk', 'create', 'd1.ext4', '--size', '32M'])).code).toBe(0);
    expect((await umlkit(box, ['disk', 'create', 'd2.ext4', '--size', '16M'])).code).toBe(0);
    const script =
      'mkdir -p /a /b && mount /dev/ubdb /a && mount /dev/ubdc /b && echo one > /a/f && echo two > /b/g && umount /a /b';
    const r = await umlkit(box, ['run', '--disk', 'd1.ext4', '--disk', 'd2.ext4', '--', 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await umlkit(box, ['disk', 'cat', 'd1.ext4:/f'])).stdout.toString()).toBe('one\n');
    expect((await umlkit(box, ['disk', 'cat', 'd2.ext4:/g'])).stdout.toString()).toBe('two\n');
    const ls = await umlkit(box, ['disk', 'ls', 'd1.ext4:/', '--json']);
    expect(JSON.parse(ls.stdout.toString()).entries.map((e: { name: string }) => e.name)).toEqual(
      expect.arrayContaining(['f', 'lost+found']),
    );
  });

  it('never writes the image: guest changes to / vanish with the overlay', async () => {
    const first = await umlkit(box, ['run', '--', 'sh', '-c', 'echo x > /etc/marker && cat /etc/marker']);
    expect(first.stderr).toBe('');
    expect(first.stdout.toString()).toBe('x\n');
    const second = await umlkit(box, ['run', '--', 'sh', '-c', 'test -e /etc/marker; echo $?']);
    expect(second.stdout.toString()).toBe('1\n');
  });

  it('boots an image that knows nothing about umlkit: one static binary, no /etc, no /dev, no /proc', async () => {
    const tree = join(box.root, 'bare');
    mkdirSync(join(tree, 'opt'), { recursive: true });
    copyFileSync('/bin/busybox', join(tree, 'opt', 'busybox'));
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', tree, join(box.root, 'bare.ext4'), '16M']);
    const r = await umlkit(box, [
      'run',
      '--image',
      './bare.ext4',
      '--',
      '/opt/busybox',
      'sh',
      '-c',
      '/opt/busybox echo hi from $(/opt/busybox uname -s); /opt/busybox ls /proc/self >/dev/null && /opt/busybox echo proc ok',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('hi from Linux\nproc ok\n');
  });

  it('keeps the overlay with --keep and says where', async () => {
    const r = await umlkit(box, ['run', '--keep', '--', 'sh', '-c', 'echo kept > /root/k']);
    expect(r.code).toBe(0);
    const m = /kept the overlay: (\S+)/.exec(r.stderr);
    expect(m?.[1]).toContain(box.stateDir);
  });
});
