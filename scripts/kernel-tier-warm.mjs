#!/usr/bin/env node
// Exit 0 when `npm run test:kernel` would build nothing from scratch: the kernel cache holds the builds the
// tier asks for, under the cache keys of today's inputs (source package version, profile fragment, umlkit's
// patches, build recipe), computed with the same key function `kernel build` uses. A build of an older
// fragment or source version does not count: the tier would start a full build for the new key. CI runs the
// kernel tier only when this passes. Prints, for each build, what it looked for and what it found.
// Needs the project built (dist/); `npm ci` does that.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
if (!existsSync(join(ROOT, 'dist', 'host', 'kernel-build.js'))) {
  console.log('kernel tier: cannot tell whether it is warm: dist/ is not built (npm run build)');
  process.exit(1);
}
const { buildKeyMaterial, buildName } = await import('../dist/core/kernel-build.js');
const { builtinPatches, profileFragments } = await import('../dist/host/kernel-build.js');
const { resolveDebianSource, treeKernelVersion, upstreamVersion } = await import(
  '../dist/host/kernel-source.js'
);
const { kernelWorkDir, listStoredKernels } = await import('../dist/host/kernel-store.js');
const { resolvePaths } = await import('../dist/host/paths.js');

// The tier's cache (test/kernel/global-setup.ts): UMLKIT_CACHE_DIR, else ~/.cache/umlkit.
const env = process.env;
const paths = resolvePaths(env);
const stored = listStoredKernels(paths).filter((k) => k.manifest);

// The key of a build from the inputs `kernel build` hashes, taken from its own functions: the profile's
// fragments (debug builds on fast) and umlkit's patches for a Debian source's series.
function keyOf(origin, kernelVersion, patches, profile = 'fast') {
  const fragments = profileFragments(profile);
  const key = createHash('sha256')
    .update(buildKeyMaterial({ origin, kernelVersion, profile, fragments, patches }))
    .digest('hex');
  return { key, name: buildName(kernelVersion, profile, key) };
}

/** Why the closest cached build (same origin) is not the one wanted: which input moved. */
function whyNot(sameOrigin, want, profile = 'fast') {
  sameOrigin = sameOrigin.filter((k) => k.manifest.profile === undefined || k.manifest.profile === profile);
  if (sameOrigin.length === 0) return `no ${profile} build of this source at all`;
  const fragments = profileFragments(profile);
  const m = sameOrigin.sort((a, b) => b.manifest.builtAt.localeCompare(a.manifest.builtAt))[0].manifest;
  const moved = [];
  if (m.origin.kind === 'debian' && m.origin.version !== want.version)
    moved.push(`source ${m.origin.version} → ${want.version}`);
  if (m.kernelVersion !== want.kernelVersion) moved.push(`kernel ${m.kernelVersion} → ${want.kernelVersion}`);
  const hashes = (xs) => (xs ?? []).map((x) => x.sha256).join(',');
  if (hashes(m.fragments) !== hashes(fragments)) moved.push(`${profile} profile fragments changed`);
  if (hashes(m.patches) !== hashes(want.patches)) moved.push('umlkit patches changed');
  return `cached ${m.name} is for other inputs (${moved.join(', ') || 'build recipe changed'})`;
}

const results = [];
async function debianBuild(label, series, profile = 'fast') {
  let src;
  try {
    src = await resolveDebianSource(series, undefined, paths, env, () => {});
  } catch (e) {
    return results.push({ label, ok: false, note: `cannot resolve linux-source ${series}: ${e.message}` });
  }
  const kernelVersion = upstreamVersion(src.version);
  const patches = builtinPatches(kernelVersion);
  const origin = { kind: 'debian', package: src.package, version: src.version, suite: src.suite };
  const { key, name } = keyOf(origin, kernelVersion, patches, profile);
  const hit = stored.find((k) => k.manifest.key === key);
  const what = `${src.package} ${src.version} (${src.suite})`;
  if (hit) return results.push({ label, ok: true, note: `${what}: ${hit.name}` });
  const same = stored.filter(
    (k) => k.manifest.origin.kind === 'debian' && k.manifest.origin.package === src.package,
  );
  results.push({
    label,
    ok: false,
    note: `${what}: wants ${name}; ${whyNot(same, { version: src.version, kernelVersion, patches }, profile)}`,
  });
}

function treeBuild(label) {
  // test/kernel/tree-bisect.kernel.test.ts: a copy of the 6.1 source, built out of tree and rebuilt at each
  // bisect step. Warm means the copy is ready, its build is cached and its build directory kept.
  const tree = join(paths.cacheDir, 'test-trees', 'linux-6.1');
  if (!existsSync(join(tree, '.git', 'umlkit-test-ready'))) {
    return results.push({
      label,
      ok: false,
      note: `${tree} is not prepared (the tier copies and builds it)`,
    });
  }
  let kernelVersion;
  try {
    kernelVersion = treeKernelVersion(tree, env);
  } catch (e) {
    return results.push({ label, ok: false, note: `cannot read the tree's version: ${e.message}` });
  }
  const { key, name } = keyOf({ kind: 'tree', path: tree }, kernelVersion, []);
  const hit = stored.find((k) => k.manifest.key === key);
  const obj = join(kernelWorkDir(paths), 'obj', key.slice(0, 16));
  if (!hit) {
    const same = stored.filter((k) => k.manifest.origin.kind === 'tree' && k.manifest.origin.path === tree);
    return results.push({
      label,
      ok: false,
      note: `wants ${name}; ${whyNot(same, { kernelVersion, patches: [] })}`,
    });
  }
  if (!existsSync(join(obj, '.config'))) {
    return results.push({
      label,
      ok: false,
      note: `${hit.name} is cached but its build directory ${obj} is gone (a full rebuild)`,
    });
  }
  results.push({ label, ok: true, note: `${hit.name}, build directory kept` });
}

await debianBuild('fast 6.1', '6.1');
await debianBuild('fast newest', 'newest');
await debianBuild('debug 6.1', '6.1', 'debug');
treeBuild('test tree');

console.log(`kernel cache: ${join(paths.cacheDir, 'kernels')}`);
for (const r of results) console.log(`  ${r.ok ? 'cached ' : 'MISSING'}  ${r.label}: ${r.note}`);
const missing = results.filter((r) => !r.ok).map((r) => r.label);
if (missing.length > 0) {
  console.log(
    `kernel tier not warm (missing: ${missing.join(', ')}); a run would build them (up to ~30 min on 2 cores)`,
  );
  process.exit(1);
}
console.log('kernel tier warm: every build it needs is cached for the current inputs');
