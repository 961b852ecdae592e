// MconsoleClient and the notify listener against the real 6.1 kernel: every command, disk hot-plug seen by
// the guest, stop/go freezing it, reboot, halt, and the SOCKET, USER_NOTIFY and PANIC notifications.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFY } from '../../src/core/mconsole/constants.ts';
import { MconsoleClient } from '../../src/mconsole/client.ts';
import { type Guest, startGuest, ticks } from '../helpers/mconsole-guest.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('a running guest', () => {
  let guest: Guest;
  let mc: MconsoleClient;
  beforeAll(async () => {
    guest = await startGuest('mc1', ['mount_ubdb=1']);
    mc = new MconsoleClient(guest.socketPath, { timeoutMs: 5000 });
  });
  afterAll(async () => {
    mc?.close();
    await guest?.dispose();
  });

  it('announced its mconsole socket (type 0) before userspace said "booted" (type 3)', () => {
    const types = guest.notify.received.map((n) => n.type);
    expect(types.indexOf(NOTIFY.SOCKET)).toBeGreaterThanOrEqual(0);
    expect(types.indexOf(NOTIFY.SOCKET)).toBeLessThan(types.indexOf(NOTIFY.USER_NOTIFY));
    expect(guest.notify.received.find((n) => n.type === NOTIFY.SOCKET)?.text).toBe(guest.socketPath);
  });

  it('answers version, help, config, proc, stack and sysrq', async () => {
    expect(await mc.version()).toMatch(/^Linux \(none\) 6\.1\.\d+ #1 .* x86_64$/);
    expect(await mc.help()).toMatch(
      /^Commands: \n[\s\S]*stack <pid> - returns the stack of the specified pid\n$/,
    );
    expect(await mc.config('ubda')).toBe(`${guest.dir}/root.cow,${guest.dir}/root.img`);
    expect(await mc.config('ubdb')).toBe('');
    expect(await mc.config('con0')).toBe('null');
    expect(await mc.proc('filesystems')).toMatch(/\bext4\n/);
    expect(await mc.proc('cmdline')).toContain('mount_ubdb=1');
    expect(await mc.stack(1)).toMatch(/^(Stack:|Received SIGSEGV)/);
    expect(await mc.sysrq('s')).toMatch(/sysrq: Emergency Sync/);
  });

  it('returns kernel errors as results, and throws MCONSOLE_FAILED from the convenience methods', async () => {
    expect(await mc.request('remove ubdb')).toMatchObject({ err: -19, text: "Device doesn't exist" });
    expect(await mc.request('proc net/dev')).toMatchObject({ err: 1, text: 'Read of file failed' });
    expect(await mc.request('bogus')).toMatchObject({ err: 1, text: 'Unknown command' });
    await expect(mc.go()).rejects.toMatchObject({
      code: 'MCONSOLE_FAILED',
      message: expect.stringContaining('Not stopped'),
    });
  });

  it('writes `log` text into the kernel log, which reaches the console', async () => {
    expect(await mc.log('umlkit-log-marker\n')).toBe('');
    for (let i = 0; i < 50 && !guest.console().includes('umlkit-log-marker'); i++) await sleep(100);
    expect(guest.console()).toContain('umlkit-log-marker');
  });

  it('hot-plugs a disk with `config ubdb=FILE` that the guest then mounts and reads', async () => {
    mkdirSync(join(guest.dir, 'data'));
    writeFileSync(join(guest.dir, 'data', 'marker'), 'hot-plugged');
    const image = join(guest.dir, 'data.img');
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', join(guest.dir, 'data'), image, '8M']);
    expect(await mc.configDisk({ index: 'b', file: image })).toBe('');
    expect(await mc.config('ubdb')).toBe(image);
    expect(await mc.proc('partitions')).toMatch(/ 98 +16 +8192 ubdb\n/);
    const seen = await guest.notify.waitFor(
      (n) => n.type === NOTIFY.USER_NOTIFY && n.text.startsWith('ubdb:'),
      { timeoutMs: 10_000 },
    );
    expect(seen?.text).toBe('ubdb:hot-plugged');
    // The guest unmounted it again, so it can be unplugged.
    expect(await mc.remove('ubdb')).toBe('');
    expect(await mc.config('ubdb')).toBe('');
  });

  it('makes no progress between stop and go, and resumes after go', async () => {
    const before = ticks(guest);
    await sleep(500);
    expect(ticks(guest)).toBeGreaterThan(before); // it ticks every 0.1 s while running
    expect(await mc.stop()).toBe('stopped');
    await sleep(200); // a tick already in flight may still land
    const frozen = ticks(guest);
    await sleep(1500);
    expect(ticks(guest)).toBe(frozen);
    expect(await mc.version()).toMatch(/^Linux/); // mconsole is still served while stopped
    expect(await mc.request('stop')).toMatchObject({ err: 1, text: 'Already stopped' });
    expect(ticks(guest)).toBe(frozen);
    expect(await mc.go()).toBe('');
    await sleep(1000);
    expect(ticks(guest)).toBeGreaterThan(frozen + 3);
  });

  it('reboots in place (same pid, fresh socket), and the same client keeps working', async () => {
    const count = guest.notify.received.length;
    expect(await mc.reboot()).toBe('');
    const again = await guest.notify.waitFor(
      (n) => n.type === NOTIFY.USER_NOTIFY && guest.notify.received.indexOf(n) >= count,
      // As long as the first boot may take: on a loaded 2-core host (the whole suite at once) a reboot,
      // which runs the kernel's init again, once took longer than 30 s.
      { timeoutMs: 60_000 },
    );
    expect(again?.text, `console tail:\n${guest.console().slice(-2000)}`).toBe('booted');
    expect(guest.notify.received.slice(count).some((n) => n.type === NOTIFY.SOCKET)).toBe(true);
    expect(guest.process.exitCode).toBeNull();
    expect(await mc.version()).toMatch(/^Linux/);
  });

  it('halts: the process exits 0 and removes its umid directory', async () => {
    expect(await mc.halt()).toBe('');
    expect(await guest.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(guest.umidDir)).toBe(false);
    await expect(mc.version()).rejects.toMatchObject({ code: 'MCONSOLE_UNREACHABLE' });
  });
});

describe('a guest that panics', () => {
  let guest: Guest;
  beforeAll(async () => {
    guest = await startGuest('mc2');
  });
  afterAll(async () => {
    await guest?.dispose();
  });

  it('sends a PANIC notification (type 1) after `sysrq c`, whose reply never completes', async () => {
    const mc = new MconsoleClient(guest.socketPath, { timeoutMs: 2000 });
    try {
      const err = await mc.sysrq('c').catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'MCONSOLE_UNREACHABLE',
        details: expect.stringContaining('sysrq: Trigger a crash'),
      });
    } finally {
      mc.close();
    }
    const panic = await guest.notify.waitFor(NOTIFY.PANIC, { timeoutMs: 10_000 });
    expect(panic?.text).toBe('sysrq triggered crash');
    expect(await guest.exited).toEqual({ code: null, signal: 'SIGABRT' });
  });
});
