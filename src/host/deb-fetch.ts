// Fetches a Debian package and unpacks it into a directory, without root.
//
// `apt-get download` needs no privileges; it uses the system's package lists when they exist. When they
// do not (a fresh container), we run `apt-get update` into private state and cache directories first.
// A package from another suite (sid's newest kernel source on a Debian 12 host) always goes through private
// state with its own sources list, so the system's apt configuration is never touched.
// `dpkg-deb -x` unpacks without touching the dpkg database.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import { requireTool, runTool } from './tool.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface FetchedPackage {
  readonly dir: string;
  readonly debFile: string;
}

export interface FetchOptions {
  /** A Debian suite (e.g. `sid`) to take the package from, through private package lists. */
  readonly suite?: string;
}

function privateAptOptions(aptDir: string, suite?: string): string[] {
  return [
    '-o',
    `Dir::State=${join(aptDir, 'state')}`,
    '-o',
    `Dir::State::status=${join(aptDir, 'state', 'status')}`,
    '-o',
    `Dir::Cache=${join(aptDir, 'cache')}`,
    '-o',
    'Debug::NoLocking=1',
    ...(suite
      ? [
          '-o',
          `Dir::Etc::SourceList=${join(aptDir, 'sources.list')}`,
          '-o',
          'Dir::Etc::SourceParts=/nonexistent',
        ]
      : []),
  ];
}

/** Private lists older than this are refreshed before use. */
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Private package lists for `suite` under `workDir` (updated when missing or a day old); returns the apt
 * options that use them. The archive key is the system's (debian-archive-keyring), so lists are verified.
 */
export async function suiteAptOptions(
  suite: string,
  workDir: string,
  env: Env,
  onProgress: (line: string) => void,
): Promise<string[]> {
  if (!/^[a-z][a-z0-9-]*$/.test(suite)) {
    throw new UmlError('USAGE', `${quote(suite)} is not a Debian suite name`, {
      hint: 'use a suite such as sid, trixie or bookworm-backports',
    });
  }
  const aptGet = requireTool('apt-get', env);
  const aptDir = join(workDir, `apt-${suite}`);
  const options = privateAptOptions(aptDir, suite);
  const stamp = join(aptDir, 'updated');
  const fresh = existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < LISTS_MAX_AGE_MS;
  if (fresh) return options;
  for (const d of ['state/lists/partial', 'cache/archives/partial'])
    mkdirSync(join(aptDir, d), { recursive: true });
  writeFileSync(join(aptDir, 'state', 'status'), '', { flag: 'a' });
  const mirror = env.UMLKIT_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
  writeFileSync(
    join(aptDir, 'sources.list'),
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${suite} main\n`,
  );
  onProgress(`updating private package lists for ${suite} (apt-get update)`);
  const update = await runTool(aptGet, [...options, 'update'], {
    env: { ...process.env, ...env, LC_ALL: 'C' } as NodeJS.ProcessEnv,
    onStderrLine: onProgress,
  });
  if (update.code !== 0) {
    throw new UmlError('KERNEL_SOURCE_NOT_FOUND', `apt-get update failed for the suite ${quote(suite)}`, {
      details: update.stderr.trim().split('\n').slice(-5).join('\n'),
      hint: `check that this host can reach ${mirror} (set UMLKIT_DEBIAN_MIRROR for another mirror)`,
    });
  }
  writeFileSync(stamp, new Date().toISOString());
  return options;
}

/** apt-cache's answer for a package: its candidate version, or undefined when the lists do not have it. */
export async function candidateVersion(
  pkg: string,
  aptOptions: readonly string[],
  env: Env,
): Promise<string | undefined> {
  const aptCache = requireTool('apt-cache', env);
  const r = await runTool(aptCache, [...aptOptions, 'policy', pkg], {
    env: { ...process.env, ...env, LC_ALL: 'C' } as NodeJS.ProcessEnv,
  });
  const m = /Candidate:\s*(\S+)/.exec(r.stdout.toString());
  return m && m[1] !== '(none)' ? m[1] : undefined;
}

/** Package names matching an extended regular expression (`apt-cache search --names-only`). */
export async function searchPackageNames(
  pattern: string,
  aptOptions: readonly string[],
  env: Env,
): Promise<string[]> {
  const aptCache = requireTool('apt-cache', env);
  const r = await runTool(aptCache, [...aptOptions, 'search', '--names-only', pattern], {
    env: { ...process.env, ...env, LC_ALL: 'C' } as NodeJS.ProcessEnv,
  });
  return r.stdout
    .toString()
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/**
 * Download `pkg` and unpack it into `destDir` (created; replaced atomically if it exists).
 * @throws {UmlError} KERNEL_INSTALL_FAILED (the caller's code) with apt's last lines.
 */
export async function fetchDebianPackage(
  pkg: string,
  destDir: string,
  workDir: string,
  env: Env,
  onProgress: (line: string) => void,
  options: FetchOptions = {},
): Promise<FetchedPackage> {
  const aptGet = requireTool('apt-get', env);
  const dpkgDeb = requireTool('dpkg-deb', env);
  mkdirSync(workDir, { recursive: true });
  const tmp = mkdtempSync(join(workDir, 'fetch-'));
  try {
    const aptDir = join(workDir, 'apt');
    const childEnv = { ...process.env, ...env, LC_ALL: 'C' } as NodeJS.ProcessEnv;
    const suiteOptions = options.suite ? await suiteAptOptions(options.suite, workDir, env, onProgress) : [];
    onProgress(`downloading ${pkg}${options.suite ? ` from ${options.suite}` : ''} (apt-get download)`);
    let result = await runTool(aptGet, [...suiteOptions, 'download', pkg], {
      cwd: tmp,
      env: childEnv,
      onStderrLine: onProgress,
    });
    if (result.code !== 0 && !options.suite) {
      // No usable system lists: build private ones (no root needed for any of this).
      onProgress('no usable package lists; updating private ones (apt-get update)');
      for (const d of ['state/lists/partial', 'cache/archives/partial'])
        mkdirSync(join(aptDir, d), { recursive: true });
      const update = await runTool(aptGet, [...privateAptOptions(aptDir), 'update'], {
        env: childEnv,
        onStderrLine: onProgress,
      });
      if (update.code !== 0) {
        throw new UmlError('KERNEL_INSTALL_FAILED', `apt-get update failed for ${quote(pkg)}`, {
          details: update.stderr.trim().split('\n').slice(-5).join('\n'),
          hint: 'check that this host can reach its Debian mirror, or install the package with sudo apt-get install',
        });
      }
      result = await runTool(aptGet, [...privateAptOptions(aptDir), 'download', pkg], {
        cwd: tmp,
        env: childEnv,
        onStderrLine: onProgress,
      });
    }
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (result.code !== 0 || !deb) {
      throw new UmlError('KERNEL_INSTALL_FAILED', `could not download the Debian package ${quote(pkg)}`, {
        details: result.stderr.trim().split('\n').slice(-5).join('\n'),
        hint: `check the name with \`apt-cache policy ${pkg}\``,
      });
    }
    onProgress(`unpacking ${deb}`);
    const unpackDir = join(tmp, 'root');
    const unpack = await runTool(dpkgDeb, ['-x', join(tmp, deb), unpackDir]);
    if (unpack.code !== 0) {
      throw new UmlError('KERNEL_INSTALL_FAILED', `dpkg-deb could not unpack ${quote(deb)}`, {
        details: unpack.stderr.trim(),
      });
    }
    rmSync(destDir, { recursive: true, force: true });
    mkdirSync(join(destDir, '..'), { recursive: true });
    renameSync(unpackDir, destDir);
    const debFile = join(destDir, '..', deb);
    renameSync(join(tmp, deb), debFile);
    return { dir: destDir, debFile };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
