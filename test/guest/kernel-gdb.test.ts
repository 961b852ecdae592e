// `umlkit run --gdb` with Debian's kernel, non-interactively: gdb really attaches to the kernel process (it is
// the kernel's tracer, a breakpoint stops it), UML's own signals pass without stopping it, the guest runs the
// command, the machine powers off and neither the kernel nor gdb is left. Also: the kernel a long-lived
// machine booted is what `inspect --json` reports.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandbox,
  ensureTestUser,
  expectNoStack,
  machineProcesses,
  type Sandbox,
  umlkit,
} from '../helpers/umlkit-cli.ts';

const DEBIAN_KERNEL = '/usr/bin/linux.uml';
const user = ensureTestUser();

/** The pids of every process whose command line holds `needle` (gdb's argv names the pid it attaches). */
function processesWith(needle: string): number[] {
  return readdirSync('/proc').flatMap((p) => {
    if (!/^\d+$/.test(p)) return [];
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(needle) ? [Number(p)] : [];
    } catch {
      return [];
    }
  });
}

/** The tracers (pid → comm) of a sandbox's kernel processes, seen while the machine runs. */
function tracersOf(runtimeDir: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const pid of machineProcesses(runtimeDir)) {
    try {
      const tracer = Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (tracer > 0) out.set(tracer, readFileSync(`/proc/${tracer}/comm`, 'utf8').trim());
    } catch {}
  }
  return out;
}

describe.each([{ who: 'root', user: undefined }, ...(user ? [{ who: user, user }] : [])])(
  'run --gdb as $who',
  ({ user: asUser }) => {
    let box: Sandbox;
    beforeAll(() => {
      box = createSandbox(asUser ? { user: asUser } : {});
    });
    afterEach(() => box.assertClean());
    afterAll(() => box.dispose());

    it('attaches gdb to the kernel, stops at a breakpoint, passes UML signals, runs the command, leaves nothing', async () => {
      const tracers = new Map<number, string>();
      let poll: NodeJS.Timeout | undefined;
      const r = await umlkit(
        box,
        [
          'run',
          '--gdb',
          '--gdb-ex',
          'info signals SIGSEGV',
          '--gdb-ex',
          'info signals SIGUSR1',
          // Debian's kernel is stripped: the breakpoint is on libc's wait4, which the kernel calls for every
          // system call of a guest process it traces.
          '--gdb-ex',
          'tbreak wait4',
          '--gdb-ex',
          'continue',
          '--gdb-ex',
          'bt 1',
          '--',
          'sh',
          '-c',
          'sleep 1; echo guest-ran-$((6 * 7)); cat /proc/cmdline',
        ],
        {
          timeoutMs: 100_000,
          onSpawn: () => {
            poll = setInterval(() => {
              for (const [pid, comm] of tracersOf(box.runtimeDir)) tracers.set(pid, comm);
            }, 100);
          },
        },
      ).finally(() => clearInterval(poll));
      const out = r.stdout.toString();
      expect(r.code, `${out}\n${r.stderr}`).toBe(0);
      expectNoStack(r.stderr);
      // gdb attached to the kernel process, and the kernel's tracer was gdb while the machine ran.
      const attach = /Attaching to program: (\S+), process (\d+)/.exec(out);
      expect(attach?.[1], out).toBe(DEBIAN_KERNEL);
      const kernelPid = Number(attach?.[2]);
      expect([...tracers.values()]).toContain('gdb');
      // UML's page faults and idle kicks pass through without stopping it.
      expect(out).toMatch(/^SIGSEGV\s+No\s+No\s+Yes/m);
      expect(out).toMatch(/^SIGUSR1\s+No\s+No\s+Yes/m);
      expect(out).not.toMatch(/received signal/);
      // The breakpoint stopped the kernel in its own process; after `continue` the guest went on.
      expect(out).toMatch(/Temporary breakpoint 1, (__GI___)?wait4 /);
      expect(out).toMatch(/^#0 +(0x[0-9a-f]+ in )?(__GI___)?wait4 /m);
      expect(out).toContain('guest-ran-42\n');
      expect(out).toMatch(/umlkit_\w+=/); // the guest's /proc/cmdline: the machine umlkit booted
      // The machine powered off by itself (not killed), and gdb left with it.
      expect(out).toContain(`[Inferior 1 (process ${kernelPid}) exited normally]`);
      expect(existsSync(`/proc/${kernelPid}`)).toBe(false);
      expect(processesWith(`attach ${kernelPid}`)).toEqual([]);
    });
  },
);

describe('run --gdb, refused', () => {
  let box: Sandbox;
  beforeAll(() => {
    box = createSandbox();
  });
  afterEach(() => box.assertClean());
  afterAll(() => box.dispose());

  it('says gdb is missing, with no machine started', async () => {
    const bin = join(box.root, 'bin');
    mkdirSync(bin);
    const r = await umlkit(box, ['run', '--gdb', '--kernel', DEBIAN_KERNEL, '--', 'true'], {
      env: { PATH: bin },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[TOOL_MISSING\]: .*gdb/m);
    expectNoStack(r.stderr);
  });
});

describe('the kernel a machine booted', () => {
  let box: Sandbox;
  beforeAll(() => {
    box = createSandbox(user ? { user } : {});
  });
  afterAll(() => box.dispose());

  it('is in `inspect --json`: the binary it was created with and the version that binary reports', async () => {
    // A copy at a path of its own, so the answer cannot come from the default kernel.
    const kernel = join(box.root, 'linux-copy.uml');
    copyFileSync(DEBIAN_KERNEL, kernel);
    const version = execFileSync(DEBIAN_KERNEL, ['--version'], { encoding: 'utf8', env: {} }).trim();
    try {
      const c = await umlkit(box, ['create', 'kv', '--kernel', kernel]);
      expect(c.code, c.stderr).toBe(0);
      const inspect = async (): Promise<Record<string, unknown>> =>
        JSON.parse((await umlkit(box, ['inspect', 'kv', '--json'])).stdout.toString()).machines[0];
      const before = await inspect();
      expect(before.kernel).toBe(kernel);
      expect(before.kernelVersion).toBeNull(); // not booted yet
      const s = await umlkit(box, ['start', 'kv']);
      expect(s.code, s.stderr).toBe(0);
      const after = await inspect();
      expect(after.status).toBe('running');
      expect(after.kernel).toBe(kernel);
      expect(after.kernelVersion).toBe(version);
      const state = JSON.parse(readFileSync(join(box.stateDir, 'machines', 'kv', 'state.json'), 'utf8'));
      expect(state.kernelPath).toBe(kernel);
      expect(state.kernelVersion).toBe(version);
    } finally {
      expect((await umlkit(box, ['rm', '-f', 'kv'])).code).toBe(0);
      box.assertClean();
    }
  });
});
