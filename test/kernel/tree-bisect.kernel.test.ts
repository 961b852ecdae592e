// Kernel experiments on a user's own tree: an out-of-tree build of a git checkout, an incremental rebuild
// of an uncommitted change (seen in the guest), and the documented `git bisect run` recipe finding the
// commit that broke a test command run in a guest.
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, buildOrFail, type Cli, kernelCli } from '../helpers/kernel-tier.ts';

let cli: Cli;
let tree: string;
const git = (...args: string[]): string =>
  execFileSync('git', ['-C', tree, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }).trim();
const marker = (text: string): string =>
  `\nstatic int __init umlkit_marker(void)\n{\n\tpr_info("umlkit-marker: ${text}\\n");\n\treturn 0;\n}\nlate_initcall(umlkit_marker);\n`;

beforeAll(() => {
  cli = kernelCli();
  // The tree: a git checkout of Debian's (patched) 6.1 source, made once and kept with the kernel cache.
  tree = join(inject('kernelCacheDir'), 'test-trees', 'linux-6.1');
  // A tree whose setup did not finish is made again.
  if (!existsSync(join(tree, '.git', 'umlkit-test-ready'))) {
    rmSync(tree, { recursive: true, force: true });
    buildOrFail(cli, ['--version', '6.1', '--no-check']);
    const srcRoot = join(inject('kernelCacheDir'), 'kernels', '.work', 'src');
    const src = readdirSync(srcRoot).find((d) => d.startsWith('linux-source-6.1_'));
    if (!src) throw new Error(`no unpacked linux-source-6.1 in ${srcRoot}`);
    cpSync(join(srcRoot, src), tree, { recursive: true });
    git('init', '-q');
    // Debian's source ships a .gitignore that ignores everything (`/*`): add it all by force.
    git('add', '-A', '-f');
    git('commit', '-qm', 'base');
    appendFileSync(join(tree, 'init', 'main.c'), '\n/* a harmless change */\n');
    git('commit', '-qam', 'harmless');
    appendFileSync(join(tree, 'init', 'main.c'), marker('bad'));
    git('commit', '-qam', 'breaks the test');
    writeFileSync(join(tree, '.git', 'umlkit-test-ready'), '');
  }
  git('bisect', 'reset');
  git('checkout', '-qf', 'master');
  git('reset', '-q', '--hard');
}, 3_600_000);
afterAll(() => {
  git('bisect', 'reset');
  git('checkout', '-qf', 'master');
  cli.dispose();
});

describe("a user's kernel tree", () => {
  it('rebuilds incrementally with an uncommitted change, and the guest runs it', () => {
    buildOrFail(cli, ['--source', tree, '--no-check']);
    const token = `dirty-${Date.now()}`;
    appendFileSync(join(tree, 'init', 'main.c'), marker(token).replace(/umlkit_marker/g, 'umlkit_marker2'));
    try {
      const t = performance.now();
      const kernel = buildOrFail(cli, ['--source', tree, '--no-check']);
      const seconds = (performance.now() - t) / 1000;
      expect(seconds).toBeLessThan(240);
      const r = cli.run(['run', '--kernel', kernel, '--', 'sh', '-c', 'dmesg | grep umlkit-marker']);
      expect(r.stdout).toContain(`umlkit-marker: ${token}`);
      const info = JSON.parse(cli.run(['kernel', 'info', kernel, '--json']).stdout) as {
        origin: { git?: string };
      };
      expect(info.origin.git).toMatch(/-dirty$/);
    } finally {
      git('checkout', '-q', '--', 'init/main.c');
    }
  });

  it('`git bisect run` with the documented recipe finds the commit that broke a guest test', () => {
    // docs/kernels.md, "Bisecting": exit 125 (skip) when the build fails, else the guest test's status.
    const step = join(tree, '..', 'bisect-step.sh');
    writeFileSync(
      step,
      [
        '#!/bin/sh',
        `k=$(node ${BIN} kernel build --source . --no-check --quiet --print-path) || exit 125`,
        `node ${BIN} run --kernel "$k" -- sh -c '! dmesg | grep -q "umlkit-marker: bad"'`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const bad = git('rev-parse', 'HEAD');
    const good = git('rev-parse', 'HEAD~2');
    git('bisect', 'start', bad, good);
    const out = execFileSync('git', ['-C', tree, 'bisect', 'run', step], {
      encoding: 'utf8',
      env: { ...process.env, ...cli.env },
      maxBuffer: 64 << 20,
    });
    expect(out).toContain(`${bad} is the first bad commit`);
  });
});
