// `kernel build`: configure (defconfig or Debian's config, then the profile's and the user's fragments),
// compile out of tree with progress and a full log, check the config kept what was required, and install
// the result into the kernel cache under a name derived from the hash of everything that went in.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quote, UmlError } from '../core/errors.ts';
import {
  buildErrorLines,
  buildKeyMaterial,
  buildName,
  expectedSteps,
  type HashedInput,
  isBuildStep,
  type KernelManifest,
  type KernelOrigin,
  type KernelProfile,
} from '../core/kernel-build.ts';
import {
  checkConfig,
  configSummary,
  describeMismatch,
  type FragmentEntry,
  parseDotConfig,
  parseFragment,
} from '../core/kernel-config.ts';
import { probeKernel } from './kernel.ts';
import {
  checkUserTree,
  gitDescribe,
  prepareDebianSource,
  resolveDebianSource,
  treeKernelVersion,
  upstreamVersion,
} from './kernel-source.ts';
import { findStoredKernel, kernelsDir, kernelWorkDir, type StoredKernel } from './kernel-store.ts';
import { requireToolchain } from './kernel-toolchain.ts';
import type { HostPaths } from './paths.ts';
import { findOnPath, requireTool } from './tool.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The repository's kernel/ directory (profiles and patches), from src/host or dist/host alike. */
export const KERNEL_DATA_DIR = fileURLToPath(new URL('../../kernel/', import.meta.url));

/** A profile is its own fragment over the fragments of the profile it extends. */
const PROFILE_FILES: Record<KernelProfile, readonly string[]> = {
  fast: ['fast.config'],
  full: ['full.config'],
  debug: ['fast.config', 'debug.config'],
};

/** The profile's own fragments as `kernel build` hashes them (the CI warm check computes keys with it). */
export function profileFragments(profile: KernelProfile): Input[] {
  return PROFILE_FILES[profile].map((f) => hashed(join(KERNEL_DATA_DIR, 'profiles', f), `umlkit:${f}`));
}

export type BuildSource =
  | { readonly kind: 'tree'; readonly dir: string }
  | { readonly kind: 'debian'; readonly version: string; readonly suite?: string };

export interface BuildRequest {
  readonly source: BuildSource;
  readonly profile: KernelProfile;
  readonly fragments: readonly string[];
  readonly patches: readonly string[];
  readonly jobs?: number;
  /** Rebuild even when the cache has this build. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: BuildProgress) => void;
}

export interface BuildProgress {
  readonly phase: 'source' | 'configure' | 'compile' | 'install';
  readonly message: string;
  readonly steps?: number;
  readonly expected?: number;
}

export interface BuildResult {
  readonly kernel: StoredKernel & { readonly manifest: KernelManifest };
  readonly cached: boolean;
  readonly logPath: string;
}

type Input = HashedInput & { readonly path: string };

function hashed(path: string, name = basename(path)): Input {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw new UmlError('USAGE', `cannot read ${quote(path)}: ${(e as Error).message}`, { cause: e });
  }
  return { name, path: resolve(path), sha256: createHash('sha256').update(data).digest('hex') };
}

/** umlkit's own patches for a Debian source of this series (kernel/patches/<series>/*.patch, in name order). */
export function builtinPatches(kernelVersion: string): Input[] {
  const series = /^(\d+\.\d+)/.exec(kernelVersion)?.[1] ?? '';
  const dir = join(KERNEL_DATA_DIR, 'patches', series);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.patch'))
    .sort()
    .map((f) => hashed(join(dir, f), `umlkit:${series}/${f}`));
}

/** Steps counted in earlier builds, per series and profile, so the next progress bar knows its length. */
function statsFile(paths: HostPaths): string {
  return join(kernelWorkDir(paths), 'steps.json');
}

function readSteps(paths: HostPaths, id: string): number | undefined {
  try {
    const n = (JSON.parse(readFileSync(statsFile(paths), 'utf8')) as Record<string, number>)[id];
    return typeof n === 'number' ? n : undefined;
  } catch {
    return undefined;
  }
}

function writeSteps(paths: HostPaths, id: string, steps: number): void {
  let all: Record<string, number> = {};
  try {
    all = JSON.parse(readFileSync(statsFile(paths), 'utf8')) as Record<string, number>;
  } catch {}
  all[id] = steps;
  writeFileSync(statsFile(paths), `${JSON.stringify(all, null, 2)}\n`);
}

/** Debian's UML config, as its kernel prints it (CONFIG_IKCONFIG): the base of the `full` profile. */
function debianConfig(env: Env): string | undefined {
  const uml = findOnPath('linux.uml', env.PATH);
  if (!uml) return undefined;
  const r = spawnSync(uml, ['--showconfig'], { encoding: 'utf8', timeout: 10_000, env: {} });
  return r.status === 0 && r.stdout.includes('CONFIG_') ? r.stdout : undefined;
}

/**
 * Run make in the build tree, appending everything it prints to the log and counting build steps.
 * @throws {UmlError} KERNEL_BUILD_FAILED with the error lines of the log
 */
function runMake(
  args: readonly string[],
  cwd: string,
  logPath: string,
  env: Env,
  onLine: (line: string) => void,
  signal: AbortSignal | undefined,
  what: string,
): Promise<void> {
  const make = requireTool('make', env);
  const log = createWriteStream(logPath, { flags: 'a' });
  log.write(`\n$ make ${args.join(' ')}\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(make, args, {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, LC_ALL: 'C', KBUILD_BUILD_USER: 'umlkit', KBUILD_BUILD_HOST: 'umlkit' },
    });
    const abort = (): void => {
      try {
        process.kill(-(child.pid as number), 'SIGTERM');
      } catch {}
    };
    signal?.addEventListener('abort', abort, { once: true });
    let partial = '';
    const feed = (d: Buffer): void => {
      log.write(d);
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('error', (e) => reject(e));
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', abort);
      log.end(() => {
        if (code === 0) return resolvePromise();
        if (signal?.aborted) {
          return reject(
            new UmlError('INTERRUPTED', `the kernel build was interrupted`, { hint: `its log: ${logPath}` }),
          );
        }
        reject(
          new UmlError('KERNEL_BUILD_FAILED', `${what} failed (make exited ${code ?? sig})`, {
            details: buildErrorLines(readFileSync(logPath, 'utf8')).join('\n'),
            hint: `the full log is ${logPath}`,
          }),
        );
      });
    });
  });
}

/**
 * Build (or find in the cache) the kernel the request describes.
 * @throws {UmlError} KERNEL_TOOLCHAIN_MISSING, KERNEL_SOURCE_NOT_FOUND, KERNEL_PATCH_FAILED,
 *   KERNEL_CONFIG_MISMATCH, KERNEL_BUILD_FAILED, INTERRUPTED, USAGE
 */
export async function buildKernel(req: BuildRequest, paths: HostPaths, env: Env): Promise<BuildResult> {
  const started = performance.now();
  const progress = (p: BuildProgress): void => req.onProgress?.(p);
  const say = (message: string): void => progress({ phase: 'source', message });
  // A usage mistake is reported first, whatever this host has installed.
  if (req.source.kind === 'tree' && req.patches.length > 0) {
    throw new UmlError(
      'USAGE',
      '--patch applies only to Debian sources (--version): umlkit never writes your tree',
      {
        hint: 'apply the patch to your tree yourself (`git am`, `patch -p1`), then build it with --source',
      },
    );
  }
  // A tree needs make even to be identified; a Debian source's cached build needs no toolchain at all.
  if (req.source.kind === 'tree') requireToolchain(env);
  const fragments = [...profileFragments(req.profile), ...req.fragments.map((f) => hashed(f))];
  const jobs = req.jobs ?? availableParallelism();

  // 1. The source: what it is (for the key) before any expensive step.
  let origin: KernelOrigin;
  let kernelVersion: string;
  let tree: string | undefined;
  let patches: Input[] = [];
  let debian: Awaited<ReturnType<typeof resolveDebianSource>> | undefined;
  if (req.source.kind === 'tree') {
    tree = checkUserTree(req.source.dir);
    kernelVersion = treeKernelVersion(tree, env);
    const git = gitDescribe(tree);
    origin = { kind: 'tree', path: tree, ...(git ? { git } : {}) };
  } else {
    say(
      req.source.version === 'newest'
        ? `looking up the newest linux-source in ${req.source.suite ?? 'sid'}`
        : `looking up linux-source-${req.source.version}`,
    );
    debian = await resolveDebianSource(req.source.version, req.source.suite, paths, env, say);
    kernelVersion = upstreamVersion(debian.version);
    origin = { kind: 'debian', package: debian.package, version: debian.version, suite: debian.suite };
    patches = [...builtinPatches(kernelVersion), ...req.patches.map((p) => hashed(p))];
  }
  const keyHex = createHash('sha256')
    .update(buildKeyMaterial({ origin, kernelVersion, profile: req.profile, fragments, patches }))
    .digest('hex');
  const name = buildName(kernelVersion, req.profile, keyHex);
  const entry = join(kernelsDir(paths), name);
  const logPath = join(kernelWorkDir(paths), 'logs', `${name}.log`);

  // 2. A Debian source's build is fixed by its key: a cached one is the answer. A user's tree is rebuilt
  // (incrementally) every time, because its files change under the same key.
  const cached = findStoredKernel(paths, name);
  if (cached?.manifest && cached.manifest.key === keyHex && req.source.kind === 'debian' && !req.force) {
    return {
      kernel: { ...cached, manifest: cached.manifest },
      cached: true,
      logPath: join(entry, 'build.log'),
    };
  }

  if (req.source.kind === 'debian') requireToolchain(env);
  mkdirSync(join(kernelWorkDir(paths), 'logs'), { recursive: true });
  writeFileSync(
    logPath,
    `umlkit kernel build ${name}\n${JSON.stringify({ origin, profile: req.profile, fragments, patches }, null, 2)}\n`,
  );
  if (!tree) {
    const patchSetId = createHash('sha256')
      .update(patches.map((p) => p.sha256).join(','))
      .digest('hex')
      .slice(0, 8);
    tree = await prepareDebianSource(
      debian as NonNullable<typeof debian>,
      patches,
      patchSetId,
      paths,
      env,
      say,
    );
  }
  const obj = join(kernelWorkDir(paths), 'obj', keyHex.slice(0, 16));
  mkdirSync(obj, { recursive: true });

  // 3. Configure: base config, then the fragments (later ones win), then olddefconfig resolves the rest.
  progress({ phase: 'configure', message: 'configuring' });
  const make = (args: string[], what: string, onLine: (l: string) => void = () => {}) =>
    runMake(['ARCH=um', `O=${obj}`, ...args], tree as string, logPath, env, onLine, req.signal, what);
  const base = req.profile === 'full' ? debianConfig(env) : undefined;
  if (base) writeFileSync(join(obj, '.config'), base);
  else await make(['defconfig'], 'make defconfig');
  const merge = spawnSync(
    join(tree, 'scripts', 'kconfig', 'merge_config.sh'),
    ['-m', '-O', obj, join(obj, '.config'), ...fragments.map((f) => f.path)],
    { cwd: tree, encoding: 'utf8', env: { ...process.env, ARCH: 'um' } },
  );
  writeFileSync(logPath, `${merge.stdout ?? ''}${merge.stderr ?? ''}`, { flag: 'a' });
  if (merge.status !== 0) {
    throw new UmlError('KERNEL_BUILD_FAILED', 'merging the config fragments failed', {
      details: (merge.stderr ?? '').trim().split('\n').slice(-5).join('\n'),
      hint: `the full log is ${logPath}`,
    });
  }
  await make(['olddefconfig'], 'make olddefconfig');
  const config = parseDotConfig(readFileSync(join(obj, '.config'), 'utf8'));
  const entries: FragmentEntry[] = fragments.flatMap((f) =>
    parseFragment(readFileSync(f.path, 'utf8'), f.name),
  );
  const mismatches = checkConfig(config, entries);
  const required = mismatches.filter((m) => m.entry.need === 'require');
  if (required.length > 0) {
    throw new UmlError(
      'KERNEL_CONFIG_MISMATCH',
      `this kernel cannot have ${required.length} option${required.length > 1 ? 's' : ''} umlkit needs`,
      {
        details: required.map(describeMismatch).join('\n'),
        hint: 'a fragment turned off something they depend on, or this version lacks them; see docs/kernels.md',
      },
    );
  }

  // 4. Compile the `linux` binary; progress counts kbuild's step lines against the last build's count.
  const statsId = `${kernelVersion.split('.').slice(0, 2).join('.')}-${req.profile}`;
  const expected = expectedSteps(req.profile, readSteps(paths, statsId));
  let steps = 0;
  progress({ phase: 'compile', message: 'compiling', steps, expected });
  // The debug profile's gdb helpers (vmlinux-gdb.py, loaded by `run --gdb`) are a target of their own.
  const targets = req.profile === 'debug' ? ['linux', 'scripts_gdb'] : ['linux'];
  await make([`-j${jobs}`, ...targets], 'the kernel build', (line) => {
    if (!isBuildStep(line)) return;
    steps++;
    progress({ phase: 'compile', message: line.trim(), steps, expected });
  });
  // An incremental rebuild counts only what it redid: keep the count of a full build.
  if (steps > expected / 2 || readSteps(paths, statsId) === undefined) writeSteps(paths, statsId, steps);

  // 5. Install: a complete entry appears under its name in one rename.
  progress({ phase: 'install', message: 'installing into the cache' });
  const staging = join(kernelsDir(paths), `.${name}.new`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  copyFileSync(join(obj, 'linux'), join(staging, 'linux'));
  copyFileSync(join(obj, '.config'), join(staging, 'config'));
  copyFileSync(logPath, join(staging, 'build.log'));
  const cc = spawnSync('gcc', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? 'gcc';
  const manifest: KernelManifest = {
    version: 1,
    name,
    key: keyHex,
    kernelVersion,
    origin,
    profile: req.profile,
    fragments: fragments.map(({ name: n, sha256 }) => ({ name: n, sha256 })),
    patches: patches.map(({ name: n, sha256 }) => ({ name: n, sha256 })),
    builtAt: new Date().toISOString(),
    buildSeconds: Math.round((performance.now() - started) / 100) / 10,
    jobs,
    compiler: cc,
    configWarnings: mismatches.filter((m) => m.entry.need !== 'require').map(describeMismatch),
    summary: configSummary(config),
  };
  writeFileSync(join(staging, 'kernel.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // The kernel must answer --version before it is offered to anyone.
  probeKernel(join(staging, 'linux'), 'cache');
  rmSync(entry, { recursive: true, force: true });
  renameSync(staging, entry);
  const size = statSync(join(entry, 'linux')).size;
  progress({ phase: 'install', message: `installed ${name} (${(size / 2 ** 20).toFixed(1)} MiB)` });
  const kernel = findStoredKernel(paths, name);
  if (!kernel?.manifest) throw new UmlError('INTERNAL', `the kernel ${quote(name)} vanished after install`);
  return {
    kernel: { ...kernel, manifest: kernel.manifest },
    cached: false,
    logPath: join(entry, 'build.log'),
  };
}
