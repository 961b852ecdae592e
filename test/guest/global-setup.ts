// Guest tier setup: build the project, make sure a UML kernel exists, and build the default image once
// into a shared cache that every sandbox (root or the unprivileged test user) reads.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

const REPO = join(import.meta.dirname, '..', '..');

export default async function setup(project: TestProject): Promise<void> {
  execFileSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const cacheDir = process.env.UMLKIT_TEST_CACHE_DIR ?? '/tmp/umlkit-test-cache';
  mkdirSync(cacheDir, { recursive: true });
  execFileSync(process.execPath, [join(REPO, 'bin', 'umlkit.js'), 'image', 'build', 'busybox'], {
    stdio: 'inherit',
    env: { ...process.env, UMLKIT_CACHE_DIR: cacheDir },
  });
  // Readable by the unprivileged test user too; images stay read-only.
  for (const d of [cacheDir, join(cacheDir, 'images')]) chmodSync(d, 0o755);
  for (const f of readdirSync(join(cacheDir, 'images'))) {
    if (f.endsWith('.json')) chmodSync(join(cacheDir, 'images', f), 0o644);
  }
  if (!existsSync('/usr/bin/linux.uml')) {
    throw new Error(
      'no UML kernel at /usr/bin/linux.uml: install user-mode-linux (the guest tier cannot run without it)',
    );
  }
  project.provide('cacheDir', cacheDir);
}

/** After the whole tier: no kernel of any test sandbox (/tmp/uk-*) may still run. */
export function teardown(): void {
  const survivors: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('umid=') && cmd.includes('/tmp/uk-'))
        survivors.push(`${pid}: ${cmd.replace(/\0/g, ' ').slice(0, 120)}`);
    } catch {}
  }
  if (survivors.length > 0)
    throw new Error(`UML processes outlived the guest tests:\n${survivors.join('\n')}`);
}
