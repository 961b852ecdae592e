// The seed walkthrough as a library function: a fresh data disk is written inside a guest and read back
// on the host after a clean shutdown. Each step reports through `say`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { GUEST_SYSTEM_PATH } from '../core/agent-protocol.ts';
import { ubdDevice } from '../core/disk-spec.ts';
import { createDisk } from '../host/disk/disk-create.ts';
import { readDiskFile } from '../host/disk/disk-read.ts';
import type { Kernel } from '../host/kernel.ts';
import type { HostPaths } from '../host/paths.ts';
import { runMachine } from './run.ts';

export const DEMO_TEXT = 'This is a UML test!';

export interface DemoRequest {
  readonly kernel: Kernel;
  readonly imagePath: string;
  readonly paths: HostPaths;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where data.ext4 goes; a temporary directory (removed afterwards) when absent. */
  readonly workDir?: string;
  readonly say: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface DemoResult {
  readonly ok: boolean;
  readonly hostText: string;
  readonly diskPath: string;
}

export async function runDemo(req: DemoRequest): Promise<DemoResult> {
  const dir = req.workDir ?? mkdtempSync(join(tmpdir(), 'umlkit-demo-'));
  const disk = join(dir, 'data.ext4');
  try {
    req.say(`1. kernel: ${req.kernel.path} (UML ${req.kernel.version})`);
    req.say(`2. root image: ${req.imagePath} (read-only; the machine writes to a copy-on-write overlay)`);
    await createDisk({ path: disk, sizeBytes: 100 * 1024 * 1024, fs: 'ext4', force: true }, req.env);
    req.say(`3. created a 100 MiB ext4 data disk on the host: ${disk}`);
    const device = ubdDevice(1);
    const script = [
      'set -e',
      'mkdir -p /mnt/disk',
      `mount ${device} /mnt/disk`,
      `echo '${DEMO_TEXT}' > /mnt/disk/foo.txt`,
      'echo "guest: wrote $(cat /mnt/disk/foo.txt) to /mnt/disk/foo.txt on $(hostname), kernel $(uname -r)"',
      'umount /mnt/disk',
      'echo "guest: unmounted the disk"',
    ].join('\n');
    req.say(
      `4. booting a machine with the data disk as ${device}; in the guest: mount it, write foo.txt, unmount`,
    );
    const guestOut = new PassThrough();
    guestOut.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) req.say(`   ${line}`);
    });
    const result = await runMachine({
      kernel: req.kernel,
      imagePath: req.imagePath,
      memoryBytes: 128 * 1024 * 1024,
      disks: [{ path: disk, readonly: false }],
      argv: ['/bin/sh', '-c', script],
      env: [GUEST_SYSTEM_PATH, 'HOME=/root'],
      workdir: '/',
      tty: false,
      bootTimeoutMs: 60_000,
      keep: false,
      stdout: guestOut,
      stderr: guestOut,
      paths: req.paths,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    req.say(
      `5. the machine shut down cleanly (guest exit code ${result.exitCode}; boot took ${Math.round(result.timingsMs.boot)} ms)`,
    );
    const hostText = (await readDiskFile(disk, '/foo.txt', req.env)).toString('utf8').replace(/\n$/, '');
    const ok = result.exitCode === 0 && hostText === DEMO_TEXT;
    req.say(`6. read on the host (no mount, no root): ${disk}:/foo.txt = "${hostText}"`);
    req.say(ok ? '   it matches what the guest wrote.' : `   MISMATCH: expected "${DEMO_TEXT}"`);
    return { ok, hostText, diskPath: disk };
  } finally {
    if (!req.workDir) rmSync(dir, { recursive: true, force: true });
  }
}
