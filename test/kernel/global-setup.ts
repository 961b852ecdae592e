// Kernel tier setup: build the project and the default image. Kernel builds go to the real cache
// (UMLKIT_CACHE_DIR or ~/.cache/umlkit) on purpose: a build is 8-10 minutes, and a cached one makes every
// later run of this tier (and CI with that cache) cheap.
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

const REPO = join(import.meta.dirname, '..', '..');

export default async function setup(project: TestProject): Promise<void> {
  execFileSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const cacheDir = process.env.UMLKIT_CACHE_DIR ?? join(homedir(), '.cache', 'umlkit');
  execFileSync(process.execPath, [join(REPO, 'bin', 'umlkit.js'), 'image', 'build', 'busybox'], {
    stdio: 'inherit',
    env: { ...process.env, UMLKIT_CACHE_DIR: cacheDir },
  });
  project.provide('kernelCacheDir', cacheDir);
}
