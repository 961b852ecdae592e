import { describe, expect, it } from 'vitest';
import { kernelArgv, type MachinePlan } from './kernel-argv.ts';

const plan: MachinePlan = {
  umid: 'run-0a1b2c3d',
  umlDir: '/tmp/umlkit-1000/run-0a1b2c3d',
  memoryBytes: 128 * 1024 * 1024,
  root: {
    kind: 'overlay',
    overlay: '/tmp/umlkit-1000/run-0a1b2c3d/root.cow',
    base: '/home/u/.cache/umlkit/images/busybox.ext4',
  },
  disks: [
    { path: '/home/u/data.ext4', readonly: false },
    { path: '/home/u/ro.img', readonly: true },
  ],
  initrd: '/opt/umlkit/dist/native/initramfs.cpio',
  agentFd: 3,
  mode: 'run',
};

describe('kernelArgv', () => {
  it('renders the golden argv of a run machine', () => {
    expect(kernelArgv(plan)).toEqual([
      'umid=run-0a1b2c3d',
      'uml_dir=/tmp/umlkit-1000/run-0a1b2c3d',
      'mem=128M',
      'ubd0=/tmp/umlkit-1000/run-0a1b2c3d/root.cow,/home/u/.cache/umlkit/images/busybox.ext4',
      'ubd1d=/home/u/data.ext4',
      'ubd2rd=/home/u/ro.img',
      'initrd=/opt/umlkit/dist/native/initramfs.cpio',
      'con=null',
      'ssl=null',
      'con0=null,fd:1',
      'ssl1=fd:3',
      'umlkit_mode=run',
      'umlkit_root=/dev/ubda',
      'umlkit_hostname=run-0a1b2c3d',
      'umlkit_line=/dev/ttyS1',
      'sysctl.kernel.modules_disabled=1',
      'initcall_blacklist=init_hostfs',
    ]);
  });

  it("puts the kernel's boot options after umlkit's own and before extra arguments", () => {
    const argv = kernelArgv({ ...plan, bootArgs: ['lpj=19259392', 'seccomp=on'], extraArgs: ['vec0:x'] });
    expect(argv.slice(-3)).toEqual(['lpj=19259392', 'seccomp=on', 'vec0:x']);
  });

  it('writes memory that is not whole MiB in KiB', () => {
    expect(kernelArgv({ ...plan, memoryBytes: 100 * 1024 * 1024 + 512 })).toContain('mem=102401K');
  });

  it('uses a plain read-only root when asked', () => {
    expect(kernelArgv({ ...plan, root: { kind: 'plain', path: '/r.img', readonly: true } })[3]).toBe(
      'ubd0r=/r.img',
    );
  });

  it('refuses a umid UML would silently replace', () => {
    expect(() => kernelArgv({ ...plan, umid: 'x'.repeat(64) })).toThrow(
      expect.objectContaining({ code: 'INVALID_NAME' }),
    );
    expect(() => kernelArgv({ ...plan, umid: 'a b' })).toThrow(
      expect.objectContaining({ code: 'INVALID_NAME' }),
    );
  });

  it('refuses more disks than ubd units', () => {
    const disks = Array.from({ length: 16 }, (_, i) => ({ path: `/d${i}`, readonly: false }));
    expect(() => kernelArgv({ ...plan, disks })).toThrow(/at most 15/);
  });

  it('refuses a command line longer than UML accepts', () => {
    const disks = Array.from({ length: 15 }, (_, i) => ({
      path: `/${'p'.repeat(300)}${i}`,
      readonly: false,
    }));
    expect(() => kernelArgv({ ...plan, disks })).toThrow(/command line would be \d+ bytes/);
  });

  it('refuses paths with separators UML splits on', () => {
    expect(() => kernelArgv({ ...plan, disks: [{ path: '/a,b', readonly: false }] })).toThrow(
      expect.objectContaining({ code: 'PATH_UNSUPPORTED' }),
    );
  });

  it('keeps hostfs only for shares, and never allows modules', () => {
    const argv = kernelArgv({
      ...plan,
      shares: [
        { hostDir: '/home/u/src', guestDir: '/mnt/src', readonly: true },
        { hostDir: '/home/u/out', guestDir: '/out', readonly: false },
      ],
    });
    expect(argv).toContain('sysctl.kernel.modules_disabled=1');
    expect(argv).not.toContain('initcall_blacklist=init_hostfs');
    expect(argv).toContain('umlkit_share0=/home/u/src:/mnt/src:ro');
    expect(argv).toContain('umlkit_share1=/home/u/out:/out:rw');
  });
});
