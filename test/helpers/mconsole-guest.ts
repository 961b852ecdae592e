// A long-running real guest for the mconsole tests, with its notify socket, console capture and teardown,
// plus runners for `umlkit mconsole` and Debian's uml_mconsole so their outputs can be compared.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NOTIFY } from '../../src/core/mconsole/constants.ts';
import { MconsoleNotifyListener } from '../../src/mconsole/notify.ts';
import { buildRootfs, FPFIX, KERNEL } from './uml-boot.ts';

export const UML_MCONSOLE = '/usr/bin/uml_mconsole';
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'umlkit.js');

/**
 * The guest's init: says "booted" on /proc/mconsole, prints a tick every 0.1 s (progress that stops
 * while the machine is stopped), and, with `mount_ubdb=1` on the kernel command line (unknown
 * parameters become init's environment), mounts /dev/ubdb once it appears and reports its marker file (after unmounting it again).
 */
export const GUEST_INIT = `
/bin/busybox mount -t proc proc /proc
echo -n booted > /proc/mconsole
i=0
while true; do
  i=$((i+1))
  echo "tick $i"
  if [ "$mount_ubdb" = 1 ] && [ -b /dev/ubdb ] && [ ! -e /tmp/seen ]; then
    /bin/busybox mkdir -p /mnt
    if /bin/busybox mount -t ext4 -o ro /dev/ubdb /mnt; then
      marker=$(/bin/busybox cat /mnt/marker)
      /bin/busybox umount /mnt
      : > /tmp/seen
      echo -n "ubdb:$marker" > /proc/mconsole
    fi
  fi
  /bin/busybox sleep 0.1
done`;

export interface Guest {
  /** A short scratch directory (socket paths stay far below 108 bytes). */
  readonly dir: string;
  readonly umidDir: string;
  readonly socketPath: string;
  readonly notify: MconsoleNotifyListener;
  readonly process: ChildProcess;
  /** Everything the guest printed on its console so far. */
  console(): string;
  /** Resolves when the kernel's main process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL the whole process group, wait for it, and remove the scratch directory. */
  dispose(): Promise<void>;
}

export async function startGuest(umid: string, extraArgs: readonly string[] = []): Promise<Guest> {
  const dir = mkdtempSync('/tmp/mcg-');
  const root = join(dir, 'root.img');
  buildRootfs(root, GUEST_INIT);
  // Bound before the kernel starts: UML sends each notification once and does not retry.
  const notify = new MconsoleNotifyListener(join(dir, 'notify'));
  const umidDir = join(dir, 'u', umid);
  const child = spawn(
    KERNEL,
    [
      `uml_dir=${join(dir, 'u')}`,
      `umid=${umid}`,
      'mem=64M',
      `ubd0=${join(dir, 'root.cow')},${root}`,
      'root=/dev/ubda',
      'rw',
      'init=/init',
      'con=null',
      'ssl=null',
      'con0=null,fd:1',
      `mconsole=notify:${join(dir, 'notify')}`,
      ...extraArgs,
    ],
    {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', TMPDIR: '/dev/shm', LD_PRELOAD: FPFIX },
    },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const kill = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  const guest: Guest = {
    dir,
    umidDir,
    socketPath: join(umidDir, 'mconsole'),
    notify,
    process: child,
    console: () => output,
    exited,
    async dispose() {
      kill();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      kill(); // helpers share the group and may outlive the main process
      notify.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const booted = await notify.waitFor((n) => n.type === NOTIFY.USER_NOTIFY && n.text === 'booted', {
    timeoutMs: 60_000,
  });
  if (!booted) {
    await guest.dispose();
    throw new Error(
      `guest did not boot within 60 s; console tail:\n${output.split('\n').slice(-20).join('\n')}`,
    );
  }
  return guest;
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
}

function run(file: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : TIMED_OUT) : 0;
      resolve({ stdout, stderr, status });
    });
  });
}

/** `umlkit mconsole TARGET WORDS…` as a user runs it (bin/umlkit.js, built dist). */
export const umlkitMconsole = (
  target: string,
  words: readonly string[],
  cwd: string,
  timeoutMs = 30_000,
): Promise<ToolResult> => run(process.execPath, [BIN, 'mconsole', target, ...words], cwd, timeoutMs);

/**
 * Debian's `uml_mconsole SOCKET WORDS…`; killed after `timeoutMs` (status 128). It can hang for good on a
 * long multi-packet reply: its socket is not connected to UML's, so the kernel's 10-datagram queue limit
 * applies and UML, sending non-blocking, drops the packets that do not fit, the last one included.
 */
export const umlMconsole = (
  socket: string,
  words: readonly string[],
  cwd: string,
  timeoutMs = 30_000,
): Promise<ToolResult> => run(UML_MCONSOLE, [socket, ...words], cwd, timeoutMs);

export const TIMED_OUT = 128;

/** Count of `tick N` console lines so far (the guest's visible progress). */
export const ticks = (guest: Guest): number => (guest.console().match(/^tick \d+$/gm) ?? []).length;
