import { describe, expect, it } from 'vitest';
import {
  buildErrorLines,
  buildKeyMaterial,
  buildName,
  expectedSteps,
  isBuildStep,
  isKernelManifest,
  parseLpj,
} from './kernel-build.ts';

const base = {
  origin: { kind: 'debian', package: 'linux-source-6.1', version: '6.1.192-3', suite: 'installed' },
  kernelVersion: '6.1.192',
  profile: 'fast',
  fragments: [{ name: 'umlkit:fast.config', sha256: 'aa' }],
  patches: [{ name: 'umlkit:6.1/0001.patch', sha256: 'bb' }],
} as const;

describe('kernel build keys', () => {
  it('change with the source version, profile, fragments and patches, and nothing else', () => {
    const k = buildKeyMaterial(base);
    expect(buildKeyMaterial({ ...base, origin: { ...base.origin, suite: 'system' } })).toBe(k);
    expect(buildKeyMaterial({ ...base, origin: { ...base.origin, version: '6.1.193-1' } })).not.toBe(k);
    expect(buildKeyMaterial({ ...base, profile: 'debug' })).not.toBe(k);
    expect(
      buildKeyMaterial({ ...base, fragments: [...base.fragments, { name: 'mine', sha256: 'cc' }] }),
    ).not.toBe(k);
    expect(buildKeyMaterial({ ...base, patches: [] })).not.toBe(k);
    // A fragment's name is for people; its bytes are what count.
    expect(buildKeyMaterial({ ...base, fragments: [{ name: 'renamed', sha256: 'aa' }] })).toBe(k);
    // A user's tree: its path, not its git state (the tree is rebuilt incrementally under one key).
    const tree = { ...base, origin: { kind: 'tree', path: '/src/linux', git: 'v6.9-dirty' } } as const;
    expect(buildKeyMaterial({ ...tree, origin: { kind: 'tree', path: '/src/linux', git: 'v7' } })).toBe(
      buildKeyMaterial(tree),
    );
  });

  it('name builds readably', () => {
    expect(buildName('6.1.192', 'fast', '1a2b3c4d5e6f')).toBe('6.1.192-fast-1a2b3c4d');
    expect(buildName('7.2.0-rc1 x', 'debug', 'ff00ff00')).toBe('7.2.0-rc1_x-debug-ff00ff00');
  });
});

describe('build output', () => {
  it('counts kbuild step lines only', () => {
    expect(isBuildStep('  CC      kernel/fork.o')).toBe(true);
    expect(isBuildStep('  HOSTCC  scripts/basic/fixdep')).toBe(true);
    expect(isBuildStep('  LINK linux')).toBe(true);
    expect(isBuildStep("make[1]: Entering directory '/x'")).toBe(false);
    expect(isBuildStep('kernel/fork.c:12: warning: x')).toBe(false);
    expect(expectedSteps('fast', undefined)).toBeGreaterThan(500);
    expect(expectedSteps('full', 1234)).toBe(1234);
  });

  it('picks the error lines of a failed log', () => {
    const log = ['  CC a.o', 'a.c:3:1: error: expected ;', 'make[2]: *** [a.o] Error 1', '  CC b.o'].join(
      '\n',
    );
    expect(buildErrorLines(log)).toEqual(['a.c:3:1: error: expected ;', 'make[2]: *** [a.o] Error 1']);
    expect(buildErrorLines('just\nlines\n', 1)).toEqual(['lines']);
  });
});

describe('boot log facts', () => {
  it('reads lpj measured or preset', () => {
    expect(parseLpj('<6>Calibrating delay loop... 3851.87 BogoMIPS (lpj=19259392)\n')).toBe(19259392);
    expect(parseLpj('Calibrating delay loop (skipped) preset value.. 3851.87 BogoMIPS (lpj=19259392)')).toBe(
      19259392,
    );
    expect(parseLpj('no such line')).toBeUndefined();
  });

  it('recognises manifests', () => {
    expect(
      isKernelManifest({ version: 1, name: 'n', kernelVersion: '6.1', profile: 'fast', origin: {} }),
    ).toBe(true);
    expect(isKernelManifest({ version: 2 })).toBe(false);
    expect(isKernelManifest(null)).toBe(false);
  });
});
