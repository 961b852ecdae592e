#!/usr/bin/env node
// Exit 0 when `npm run test:kernel` would build nothing from scratch: the kernel cache already holds the
// fast-profile 6.1 and newest builds and the test tree's build. CI runs the kernel tier only then.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const cache = process.env.UMLKIT_CACHE_DIR ?? join(homedir(), '.cache', 'umlkit');
const kernels = join(cache, 'kernels');
const manifests = existsSync(kernels)
  ? readdirSync(kernels).flatMap((d) => {
      try {
        return [JSON.parse(readFileSync(join(kernels, d, 'kernel.json'), 'utf8'))];
      } catch {
        return [];
      }
    })
  : [];
const fast = manifests.filter((m) => m.profile === 'fast');
const debian61 = fast.some((m) => m.origin.kind === 'debian' && m.kernelVersion.startsWith('6.1.'));
const newer = fast.some((m) => m.origin.kind === 'debian' && !m.kernelVersion.startsWith('6.1.'));
const tree = fast.some(
  (m) => m.origin.kind === 'tree' && m.origin.path === join(cache, 'test-trees', 'linux-6.1'),
);
const missing = [!debian61 && 'fast 6.1', !newer && 'fast newest', !tree && 'test tree'].filter(Boolean);
if (missing.length > 0) {
  console.log(
    `kernel tier not warm (missing: ${missing.join(', ')}); a first run builds them (~30 min on 2 cores)`,
  );
  process.exit(1);
}
console.log('kernel tier warm: every build it needs is cached');
