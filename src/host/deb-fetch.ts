// Fetches a Debian package and unpacks it into a directory, without root.
//
// `apt-get download` needs no privileges; it uses the system's package lists when they exist. When they
// do not (a fresh container), we run `apt-get update` into private state and cache directories first.
// `dpkg-deb -x` unpacks without touching the dpkg database.
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';
import { requireTool, runTool } from './tool.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface FetchedPackage {
  readonly dir: string;
  readonly debFile: string;
}

function privateAptOptions(aptDir: string): string[] {
  return [
    '-o',
    `Dir::State=${join(aptDir, 'state')}`,
    '-o',
    `Dir::State::status=${join(aptDir, 'state', 'status')}`,
    '-o',
    `Dir::Cache=${join(aptDir, 'cache')}`,
    '-o',
    'Debug::NoLocking=1',
  ];
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
): Promise<FetchedPackage> {
  const aptGet = requireTool('apt-get', env);
  const dpkgDeb = requireTool('dpkg-deb', env);
  mkdirSync(workDir, { recursive: true });
  const tmp = mkdtempSync(join(workDir, 'fetch-'));
  try {
    const aptDir = join(workDir, 'apt');
    const childEnv = { ...process.env, ...env, LC_ALL: 'C' } as NodeJS.ProcessEnv;
    onProgress(`downloading ${pkg} (apt-get download)`);
    let result = await runTool(aptGet, ['download', pkg], {
      cwd: tmp,
      env: childEnv,
      onStderrLine: onProgress,
    });
    if (result.code !== 0) {
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
