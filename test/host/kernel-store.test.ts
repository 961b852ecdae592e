// The kernel cache and build plumbing that needs no build: listing and lookup by name, default pointer,
// removal refusals, `--kernel NAME`, binary feature scans, calibration records, toolchain and tree checks.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KernelManifest } from '../../src/core/kernel-build.ts';
import {
  kernelBootArgs,
  noteBootLog,
  readCalibration,
  recordCalibration,
} from '../../src/host/kernel-boot-args.ts';
import { buildKernel } from '../../src/host/kernel-build.ts';
import { kernelFeatures } from '../../src/host/kernel-features.ts';
import { checkUserTree } from '../../src/host/kernel-source.ts';
import {
  findStoredKernel,
  kernelArgPath,
  listStoredKernels,
  readDefaultKernel,
  removeStoredKernel,
  setDefaultKernel,
} from '../../src/host/kernel-store.ts';
import {
  KERNEL_BUILD_PACKAGES,
  missingToolchain,
  requireToolchain,
} from '../../src/host/kernel-toolchain.ts';
import type { HostPaths } from '../../src/host/paths.ts';

let dir: string;
let paths: HostPaths;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umlkit-kstore-'));
  paths = {
    cacheDir: join(dir, 'cache'),
    stateDir: join(dir, 'state'),
    runtimeDir: join(dir, 'rt'),
    configFile: join(dir, 'config.json'),
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A fake built kernel: an "ELF" that carries the option strings the feature scan looks for. */
function fakeBuilt(name: string, body: string, manifest: Partial<KernelManifest> = {}): string {
  const d = join(paths.cacheDir, 'kernels', name);
  mkdirSync(d, { recursive: true });
  writeFileSync(
    join(d, 'linux'),
    Buffer.concat([Buffer.from('\x7fELF\x02'), Buffer.alloc(59), Buffer.from(body)]),
  );
  chmodSync(join(d, 'linux'), 0o755);
  writeFileSync(
    join(d, 'kernel.json'),
    JSON.stringify({
      version: 1,
      name,
      key: 'ab'.repeat(32),
      kernelVersion: '7.2.13',
      profile: 'fast',
      origin: { kind: 'debian', package: 'linux-source-7.2', version: '7.2.13-1', suite: 'sid' },
      ...manifest,
    }),
  );
  return join(d, 'linux');
}

function fakeDebian(name: string): string {
  const d = join(paths.cacheDir, 'kernels', name, 'usr', 'bin');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'linux.uml'), 'x');
  return join(d, 'linux.uml');
}

describe('kernel cache', () => {
  it('lists built kernels before Debian ones, skipping work dirs, and finds them by name or prefix', () => {
    const a = fakeBuilt('7.2.13-fast-aaaaaaaa', '');
    fakeBuilt('6.1.192-fast-bbbbbbbb', '', { kernelVersion: '6.1.192' });
    fakeDebian('debian-6.1.176');
    mkdirSync(join(paths.cacheDir, 'kernels', '.work', 'obj'), { recursive: true });
    mkdirSync(join(paths.cacheDir, 'kernels', 'half-made'), { recursive: true });
    expect(listStoredKernels(paths).map((k) => [k.name, k.kind])).toEqual([
      ['6.1.192-fast-bbbbbbbb', 'built'],
      ['7.2.13-fast-aaaaaaaa', 'built'],
      ['debian-6.1.176', 'debian'],
    ]);
    expect(findStoredKernel(paths, '7.2')?.path).toBe(a);
    expect(findStoredKernel(paths, a)?.name).toBe('7.2.13-fast-aaaaaaaa');
    fakeBuilt('6.1.192-debug-cccccccc', '', { kernelVersion: '6.1.192', profile: 'debug' });
    expect(() => findStoredKernel(paths, '6.1')).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(findStoredKernel(paths, 'nope')).toBeUndefined();
    // --kernel: a file wins, then a cached name, else the path as given (for the not-found error).
    writeFileSync(join(dir, '7.2.13-fast-aaaaaaaa'), '');
    expect(kernelArgPath('7.2.13-fast-aaaaaaaa', paths, dir)).toBe(join(dir, '7.2.13-fast-aaaaaaaa'));
    expect(kernelArgPath('7.2.13-fast', paths, '/')).toBe(a);
    expect(kernelArgPath('./7.2.13-fast', paths, '/x')).toBe('/x/7.2.13-fast');
  });

  it('refuses to remove the default kernel or one a machine was created with, unless forced', () => {
    const a = fakeBuilt('7.2.13-fast-aaaaaaaa', '');
    const obj = join(paths.cacheDir, 'kernels', '.work', 'obj', 'ab'.repeat(8));
    mkdirSync(obj, { recursive: true });
    setDefaultKernel(paths, a);
    expect(readDefaultKernel(paths)).toBe(a);
    const k = findStoredKernel(paths, '7.2') as NonNullable<ReturnType<typeof findStoredKernel>>;
    expect(() => removeStoredKernel(paths, k)).toThrow(expect.objectContaining({ code: 'KERNEL_IN_USE' }));
    setDefaultKernel(paths, '/usr/bin/linux.uml');
    const m = join(paths.stateDir, 'machines', 'web');
    mkdirSync(m, { recursive: true });
    writeFileSync(
      join(m, 'machine.json'),
      JSON.stringify({
        version: 1,
        name: 'web',
        imagePath: '/i',
        memoryBytes: 1,
        disks: [],
        kernelPath: a,
        createdAt: 'x',
      }),
    );
    expect(() => removeStoredKernel(paths, k)).toThrow(/machine `web`/);
    removeStoredKernel(paths, k, true);
    expect(listStoredKernels(paths)).toEqual([]);
    expect(existsSync(obj)).toBe(false);
  });
});

describe('kernel features and boot options', () => {
  it('reads the seccomp mode, time travel and the ASLR re-exec from the binary', () => {
    const both = fakeBuilt('k1', 'seccomp=\0time-travel-start=\0readlink failure\0');
    expect(kernelFeatures(both)).toMatchObject({ seccompMode: true, timeTravel: true, reexecsForAslr: true });
    const none = fakeBuilt('k2', 'seccomp=on|auto|off help text, time-travel-start= mid-string');
    expect(kernelFeatures(none)).toMatchObject({
      seccompMode: false,
      timeTravel: false,
      reexecsForAslr: false,
    });
  });

  it('records calibrations per binary, keeps the largest lpj, and turns them into boot options', () => {
    const k = fakeBuilt('k1', 'seccomp=\0');
    expect(kernelBootArgs(paths, k, {})).toEqual([]);
    recordCalibration(paths, k, 'Calibrating delay loop... 4000.00 BogoMIPS (lpj=20000000)', 'ok');
    recordCalibration(paths, k, 'Calibrating delay loop... 900.00 BogoMIPS (lpj=4500000)', 'ok');
    expect(readCalibration(paths, k)?.lpj).toBe(20000000);
    expect(kernelBootArgs(paths, k, {})).toEqual(['lpj=20000000', 'seccomp=on']);
    expect(kernelBootArgs(paths, k, { UMLKIT_LPJ: 'off', UMLKIT_KERNEL_SECCOMP: 'off' })).toEqual([]);
    recordCalibration(paths, k, 'no lpj line', 'failed');
    expect(kernelBootArgs(paths, k, {})).toEqual(['lpj=20000000']);
    // Any boot without lpj= teaches it too, and keeps the seccomp result it had.
    recordCalibration(paths, k, 'x', 'ok');
    noteBootLog(paths, k, ['lpj=1'], 'Calibrating delay loop... 1.00 BogoMIPS (lpj=99000000)');
    expect(readCalibration(paths, k)?.lpj).toBe(20000000);
    noteBootLog(paths, k, [], 'Calibrating delay loop... 1.00 BogoMIPS (lpj=99000000)');
    expect(readCalibration(paths, k)).toMatchObject({ lpj: 99000000, seccomp: 'ok' });
    // A rebuilt binary (other size or mtime) is not the calibrated one.
    const other = fakeBuilt('k2', 'different');
    expect(readCalibration(paths, other)).toBeUndefined();
  });

  it('trims the RAID6 benchmark and the legacy ptys only from kernels that have them, unless told not to', () => {
    // The strings as Debian's 6.1 carries them (printk level prefix, NUL-terminated parameter name).
    const debianLike = fakeBuilt('k3', '\x016raid6: %-8s gen() %5ld MB/s\0pty.legacy_count\0');
    expect(kernelFeatures(debianLike)).toMatchObject({ raid6Benchmark: true, legacyPtys: true });
    expect(kernelBootArgs(paths, debianLike, {})).toEqual([
      'initcall_blacklist=raid6_select_algo',
      'pty.legacy_count=0',
    ]);
    expect(kernelBootArgs(paths, debianLike, { UMLKIT_BOOT_TRIM: 'off' })).toEqual([]);
    // A kernel that skips the benchmark (or has no RAID6 at all) keeps its selection: it costs nothing.
    const noBench = fakeBuilt('k4', '\x016raid6: skipped pq benchmark and selected %s\0pty.legacy_count=\0');
    expect(kernelFeatures(noBench)).toMatchObject({ raid6Benchmark: false, legacyPtys: false });
    expect(kernelBootArgs(paths, noBench, {})).toEqual([]);
  });

  it('knows a kernel with the legacy daemon transport by its driver message', () => {
    const daemon = fakeBuilt('k5', '\x013daemon_open : control connect failed, errno = %d\n');
    expect(kernelFeatures(daemon).daemonTransport).toBe(true);
    expect(kernelFeatures(fakeBuilt('k6', 'vector_user.c')).daemonTransport).toBe(false);
  });
});

describe('kernel build preconditions', () => {
  it('names the missing toolchain pieces and the apt line, and lists the same packages as the scripts', async () => {
    const missing = missingToolchain({ PATH: join(dir, 'empty') }).map((m) => m.pkg);
    expect(missing).toEqual(expect.arrayContaining(['make', 'flex', 'bison', 'bc']));
    expect(() => requireToolchain({ PATH: join(dir, 'empty') })).toThrow(
      expect.objectContaining({
        code: 'KERNEL_TOOLCHAIN_MISSING',
        hint: expect.stringMatching(/apt-get install .*flex/),
      }),
    );
    // scripts/host-packages.mjs is plain JS (no types): load it by a computed specifier.
    const script = '../../scripts/host-packages.mjs';
    const { KERNEL_BUILD_PACKAGES: listed } = (await import(script)) as { KERNEL_BUILD_PACKAGES: string[] };
    for (const p of KERNEL_BUILD_PACKAGES) expect(listed).toContain(p);
  });

  it('refuses trees that are not kernels, or that kbuild cannot build out of tree', async () => {
    expect(() => checkUserTree(dir)).toThrow(expect.objectContaining({ code: 'KERNEL_SOURCE_NOT_FOUND' }));
    mkdirSync(join(dir, 'arch', 'um'), { recursive: true });
    writeFileSync(join(dir, 'Makefile'), '');
    expect(checkUserTree(dir)).toBe(dir);
    writeFileSync(join(dir, '.config'), '');
    expect(() => checkUserTree(dir)).toThrow(
      expect.objectContaining({ code: 'KERNEL_BUILD_FAILED', hint: expect.stringContaining('mrproper') }),
    );
    await expect(
      buildKernel(
        { source: { kind: 'tree', dir }, profile: 'fast', fragments: [], patches: ['x.patch'] },
        paths,
        process.env,
      ),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });
});
