// `umlkit kernel use` and `kernel rm` through the CLI, on a private cache holding copies of Debian's kernel
// laid out as the store recognises them (a built entry: <name>/linux + kernel.json; a Debian one:
// <name>/usr/bin/linux.uml), with their refusals as coded errors. And `--help` of every command.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.ts';
import { type CliOutcome, runCliInProcess } from '../helpers/in-process-cli.ts';
import { expectNoStack } from '../helpers/umlkit-cli.ts';

const DEBIAN_KERNEL = '/usr/bin/linux.uml';
const BUILT = '6.1.176-fast-0123abcd';
const DEBIAN = 'debian-6.1.176';

let root: string;
let env: Record<string, string>;
const kernels = (): string => join(root, 'cache', 'kernels');

const cli = (...argv: string[]): Promise<CliOutcome> => runCliInProcess(argv, env, root);

beforeEach(() => {
  root = mkdtempSync('/tmp/uk-kcli-');
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    UMLKIT_CACHE_DIR: join(root, 'cache'),
    UMLKIT_STATE_DIR: join(root, 'state'),
    UMLKIT_RUNTIME_DIR: join(root, 'rt'),
    NO_COLOR: '1',
  };
  // A real UML binary (`kernel use` runs it with --version) under a built kernel's layout and manifest ...
  mkdirSync(join(kernels(), BUILT), { recursive: true });
  copyFileSync(DEBIAN_KERNEL, join(kernels(), BUILT, 'linux'));
  writeFileSync(
    join(kernels(), BUILT, 'kernel.json'),
    JSON.stringify({
      version: 1,
      name: BUILT,
      key: `0123abcd${'0'.repeat(56)}`,
      kernelVersion: '6.1.176',
      profile: 'fast',
      origin: { kind: 'debian', package: 'linux-source-6.1', version: '6.1.176-1', suite: 'installed' },
      fragments: [],
      patches: [],
      builtAt: '2026-12-01T00:00:00.000Z',
    }),
  );
  mkdirSync(join(kernels(), '.work', 'obj', `0123abcd${'0'.repeat(8)}`), { recursive: true });
  // ... and under a Debian package's layout.
  mkdirSync(join(kernels(), DEBIAN, 'usr', 'bin'), { recursive: true });
  copyFileSync(DEBIAN_KERNEL, join(kernels(), DEBIAN, 'usr', 'bin', 'linux.uml'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const builtPath = (): string => join(kernels(), BUILT, 'linux');
const debianPath = (): string => join(kernels(), DEBIAN, 'usr', 'bin', 'linux.uml');
const pointer = (): string | undefined =>
  existsSync(join(kernels(), 'default'))
    ? readFileSync(join(kernels(), 'default'), 'utf8').trim()
    : undefined;
const defaultInLs = async (): Promise<string | undefined> => {
  const r = await cli('kernel', 'ls', '--json');
  expect(r.code, r.err).toBe(0);
  const rows = JSON.parse(r.out).kernels as { name: string; default: boolean }[];
  return rows.find((k) => k.default)?.name;
};

describe('kernel use', () => {
  it('makes a cached kernel (by a name prefix) the default, which is what kernel resolution (`kernel ls`) picks', async () => {
    const r = await cli('kernel', 'use', '6.1.176-fast');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`default kernel: 6.1.176 ${builtPath()}\n`);
    expect(pointer()).toBe(builtPath());
    expect(await defaultInLs()).toBe(BUILT);
    // Another one, by its full name: the pointer moves.
    expect((await cli('kernel', 'use', DEBIAN)).code).toBe(0);
    expect(pointer()).toBe(debianPath());
    expect(await defaultInLs()).toBe(DEBIAN);
  });

  it('takes a path too, and notes that $UMLKIT_KERNEL still wins', async () => {
    env.UMLKIT_KERNEL = DEBIAN_KERNEL;
    const r = await cli('kernel', 'use', builtPath());
    expect(r.code, r.err).toBe(0);
    expect(pointer()).toBe(builtPath());
    expect(r.err).toContain('$UMLKIT_KERNEL is set and still takes precedence');
  });

  it('refuses a missing name, a file that is not UML and an ambiguous prefix, leaving the default alone', async () => {
    expect((await cli('kernel', 'use', DEBIAN)).code).toBe(0);
    const missing = await cli('kernel', 'use', 'no-such-kernel');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(
      /^error\[KERNEL_NOT_FOUND\]: kernel `no-such-kernel` is not an executable file/,
    );
    expectNoStack(missing.err);
    const notUml = join(root, 'not-uml');
    writeFileSync(notUml, '#!/bin/sh\necho 6.1\n', { mode: 0o755 });
    const bad = await cli('kernel', 'use', notUml);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error\[KERNEL_NOT_UML\]: `.*not-uml` is not a User Mode Linux kernel/);
    mkdirSync(join(kernels(), '6.1.176-fast-ffffffff'));
    copyFileSync(
      join(kernels(), BUILT, 'kernel.json'),
      join(kernels(), '6.1.176-fast-ffffffff', 'kernel.json'),
    );
    copyFileSync(builtPath(), join(kernels(), '6.1.176-fast-ffffffff', 'linux'));
    const ambiguous = await cli('kernel', 'use', '6.1.176-fast');
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toMatch(/^error\[USAGE\]: `6\.1\.176-fast` matches 2 kernels/);
    expect(pointer()).toBe(debianPath());
    const none = await cli('kernel', 'use');
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^error\[USAGE\]: give one kernel name or path/);
  });
});

describe('kernel rm', () => {
  it('removes a kernel that is neither the default nor used, with its build directory', async () => {
    expect((await cli('kernel', 'use', DEBIAN)).code).toBe(0);
    const r = await cli('kernel', 'rm', BUILT);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`removed ${BUILT}\n`);
    expect(existsSync(join(kernels(), BUILT))).toBe(false);
    expect(existsSync(join(kernels(), '.work', 'obj', `0123abcd${'0'.repeat(8)}`))).toBe(false);
    const ls = JSON.parse((await cli('kernel', 'ls', '--json')).out).kernels as { name: string }[];
    expect(ls.map((k) => k.name)).not.toContain(BUILT);
    expect(existsSync(DEBIAN_KERNEL)).toBe(true);
  });

  it('refuses the default kernel (KERNEL_IN_USE) unless --force, which also clears the pointer', async () => {
    expect((await cli('kernel', 'use', BUILT)).code).toBe(0);
    const r = await cli('kernel', 'rm', BUILT);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^error\\[KERNEL_IN_USE\\]: kernel \`${BUILT}\` is the default kernel`));
    expect(r.err).toContain('hint: choose another first with `umlkit kernel use NAME`, or pass --force');
    expectNoStack(r.err);
    expect(existsSync(builtPath())).toBe(true);
    const forced = await cli('kernel', 'rm', '--force', BUILT);
    expect(forced.code, forced.err).toBe(0);
    expect(existsSync(join(kernels(), BUILT))).toBe(false);
    expect(pointer()).toBeUndefined();
  });

  it('refuses a kernel a machine was created with, naming the machine', async () => {
    const image = join(root, 'root.ext4');
    writeFileSync(image, Buffer.alloc(1 << 20));
    const c = await cli('create', 'kuser', '--image', image, '--kernel', DEBIAN);
    expect(c.code, c.err).toBe(0);
    const r = await cli('kernel', 'rm', DEBIAN);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(`^error\\[KERNEL_IN_USE\\]: kernel \`${DEBIAN}\` is the kernel of machine \`kuser\``),
    );
    expect(existsSync(debianPath())).toBe(true);
  });

  it('names a kernel that is not in the cache (KERNEL_NOT_FOUND) and removes nothing before it', async () => {
    const r = await cli('kernel', 'rm', 'no-such-kernel');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error\[KERNEL_NOT_FOUND\]: no kernel called `no-such-kernel` in the cache/);
    expect(r.err).toContain('hint: see `umlkit kernel ls`');
    expectNoStack(r.err);
    // Names are checked in order: the first, missing, stops the command before the second is touched.
    const both = await cli('kernel', 'rm', 'ghost', BUILT);
    expect(both.code).toBe(1);
    expect(existsSync(builtPath())).toBe(true);
    const none = await cli('kernel', 'rm');
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^error\[USAGE\]: give the kernels to remove/);
  });
});

describe('help', () => {
  it('says "(repeatable)" once for a repeatable option, for every command', async () => {
    for (const entry of COMMANDS) {
      const { command: c } = await entry.load();
      const r = await cli(...c.name.split(' '), '--help');
      expect(r.out, c.name).not.toMatch(/\(repeatable\).*\(repeatable\)/);
      for (const o of c.options.filter((x) => x.multiple)) {
        const line = r.out.split('\n').find((l) => new RegExp(`^ {2}(-\\w, | {4})--${o.name}[ =]`).test(l));
        expect(line, `${c.name} --${o.name}`).toMatch(/\(repeatable\)$/);
      }
    }
    const run = await cli('run', '--help');
    expect(run.out).toMatch(
      /--gdb-ex CMD +with --gdb: a gdb command to run after attaching, e\.g\. "break panic" \(repeatable\)\n/,
    );
  });
});
