// The image cache: root filesystem images built by umlkit, keyed by content hash, never written after build.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { quote, UmlError } from '../../core/errors.ts';
import { findDiskHolders } from '../disk-lock.ts';
import { readElfInfo } from '../elf.ts';
import type { HostPaths } from '../paths.ts';
import { processStartTime } from '../process-identity.ts';
import { requireTool, runTool } from '../tool.ts';
import { BUSYBOX_DIRS, BUSYBOX_FILES, BUSYBOX_RECIPE_VERSION } from './busybox-tree.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface ImageRecord {
  readonly version: 1;
  readonly name: string;
  readonly path: string;
  readonly hash: string;
  readonly sizeBytes: number;
  readonly createdAt: string;
  readonly source: string;
}

export const KNOWN_IMAGES = ['busybox'] as const;
const IMAGE_SIZE = '256M';

const imagesDir = (paths: HostPaths): string => join(paths.cacheDir, 'images');
const manifestPath = (paths: HostPaths, name: string): string => join(imagesDir(paths), `${name}.json`);

// What a build writes before it renames into place: `.staging-<name>-<pid>-XXXXXX/`, `<file>.tmp-<pid>`.
// Names without a pid come from builds before the pid was recorded.
const STAGING_ENTRY = /^\.staging-.+?(?:-(\d+))?-[A-Za-z0-9]{6}$/;
const TMP_ENTRY = /\.tmp(?:-(\d+))?$/;
const UNOWNED_STALE_MS = 60 * 60 * 1000;

/**
 * Remove what interrupted or killed builds left in the image cache: staging trees and temporary files
 * whose build process is gone (or, with no pid in the name, older than an hour). A live build's are kept.
 */
export function sweepStaleBuilds(paths: HostPaths): void {
  const dir = imagesDir(paths);
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const m = STAGING_ENTRY.exec(entry) ?? TMP_ENTRY.exec(entry);
    if (!m) continue;
    const path = join(dir, entry);
    try {
      const stale =
        m[1] !== undefined
          ? processStartTime(Number(m[1])) === undefined
          : Date.now() - statSync(path).mtimeMs > UNOWNED_STALE_MS;
      if (stale) rmSync(path, { recursive: true, force: true });
    } catch {
      // Gone already, or another user's leftover in a shared cache: not ours to remove.
    }
  }
}

export function listImages(paths: HostPaths): ImageRecord[] {
  const dir = imagesDir(paths);
  if (!existsSync(dir)) return [];
  const records: ImageRecord[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    try {
      const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ImageRecord;
      if (rec.version === 1 && existsSync(rec.path)) records.push(rec);
    } catch {
      // A manifest that does not parse describes nothing usable; `image build` rewrites it.
    }
  }
  return records.sort((a, b) => a.name.localeCompare(b.name));
}

export const findImage = (paths: HostPaths, name: string): ImageRecord | undefined =>
  listImages(paths).find((r) => r.name === name);

/** A static busybox from the host (busybox-static), else from Debian's package fetched into the cache. */
function findStaticBusybox(paths: HostPaths, env: Env): string | undefined {
  const candidates = [
    env.UMLKIT_BUSYBOX,
    '/bin/busybox',
    '/usr/bin/busybox',
    join(paths.cacheDir, 'packages', 'busybox-static', 'bin', 'busybox'),
  ];
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    try {
      if (readElfInfo(c).isStatic) return c;
    } catch {}
  }
  return undefined;
}

async function ensureBusybox(paths: HostPaths, env: Env, progress: (line: string) => void): Promise<string> {
  const found = findStaticBusybox(paths, env);
  if (found) return found;
  const { fetchDebianPackage } = await import('../deb-fetch.ts');
  await fetchDebianPackage(
    'busybox-static',
    join(paths.cacheDir, 'packages', 'busybox-static'),
    join(paths.cacheDir, 'tmp'),
    env,
    progress,
  ).catch((e: unknown) => {
    throw new UmlError(
      'IMAGE_BUILD_FAILED',
      'no static busybox on this host, and fetching busybox-static failed',
      {
        cause: e,
        hint: 'install it: sudo apt-get install busybox-static (or set UMLKIT_BUSYBOX to a static busybox)',
      },
    );
  });
  const fetched = findStaticBusybox(paths, env);
  if (!fetched)
    throw new UmlError('IMAGE_BUILD_FAILED', 'busybox-static was fetched but holds no static busybox');
  return fetched;
}

export type BuildProgress = (step: string, fraction: number) => void;

const interrupted = (name: string): UmlError =>
  new UmlError('INTERRUPTED', `interrupted: the build of image ${quote(name)} was stopped`, {
    hint: 'nothing was left in the cache; run the command again to build it',
    exitCode: 130,
  });

/**
 * Build (or find in the cache) the named image. Staging + mke2fs -d, no root; written to a temporary
 * name and renamed, then made read-only: overlays are the only way machines write to it. When `signal`
 * aborts (Ctrl-C), the running tool is stopped, the staging tree and temporary image are removed and
 * INTERRUPTED is thrown.
 */
export async function buildImage(
  name: string,
  paths: HostPaths,
  env: Env,
  progress: BuildProgress,
  force = false,
  signal?: AbortSignal,
): Promise<ImageRecord> {
  if (!(KNOWN_IMAGES as readonly string[]).includes(name)) {
    throw new UmlError('IMAGE_NOT_FOUND', `there is no image recipe called ${quote(name)}`, {
      hint: `recipes: ${KNOWN_IMAGES.join(', ')}; or pass the path of an ext4 image with --image PATH`,
    });
  }
  sweepStaleBuilds(paths);
  const mke2fs = requireTool('mke2fs', env);
  progress('finding a static busybox', 0.05);
  const busybox = await ensureBusybox(paths, env, (line) => progress(line, 0.1));
  if (signal?.aborted) throw interrupted(name);
  const busyboxBytes = readFileSync(busybox);
  // Loaded here, not at the top: every `run` imports this module, and only a build hashes.
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256')
    .update(
      JSON.stringify({
        recipe: BUSYBOX_RECIPE_VERSION,
        dirs: BUSYBOX_DIRS,
        files: BUSYBOX_FILES,
        size: IMAGE_SIZE,
      }),
    )
    .update(busyboxBytes)
    .digest('hex');
  const dir = imagesDir(paths);
  const file = join(dir, `${name}-${hash.slice(0, 16)}.ext4`);
  const existing = findImage(paths, name);
  if (!force && existing && existing.hash === hash && existsSync(existing.path)) {
    progress('image is up to date', 1);
    return existing;
  }
  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(dir, `.staging-${name}-${process.pid}-`));
  const tmpImage = `${file}.tmp-${process.pid}`;
  const tmpManifest = `${manifestPath(paths, name)}.tmp-${process.pid}`;
  try {
    progress('staging the root filesystem', 0.2);
    for (const d of BUSYBOX_DIRS) {
      mkdirSync(join(staging, d.path), { recursive: true });
      chmodSync(join(staging, d.path), d.mode);
    }
    writeFileSync(join(staging, 'bin/busybox'), busyboxBytes, { mode: 0o755 });
    const list = await runTool(busybox, ['--list-full'], signal ? { signal } : {});
    if (signal?.aborted) throw interrupted(name);
    for (const applet of list.stdout
      .toString()
      .split('\n')
      .filter((l) => l !== '' && l !== 'bin/busybox')) {
      const target = join(staging, applet);
      mkdirSync(dirname(target), { recursive: true });
      if (!existsSync(target)) symlinkSync('/bin/busybox', target);
    }
    for (const f of BUSYBOX_FILES) writeFileSync(join(staging, f.path), f.content, { mode: f.mode });
    progress('writing the ext4 image (mke2fs -d)', 0.5);
    const made = await runTool(
      mke2fs,
      [
        '-q',
        '-F',
        '-t',
        'ext4',
        '-L',
        `umlkit-${name}`,
        '-E',
        'root_owner=0:0',
        '-d',
        staging,
        tmpImage,
        IMAGE_SIZE,
      ],
      signal ? { signal } : {},
    );
    if (signal?.aborted) throw interrupted(name);
    if (made.code !== 0) {
      throw new UmlError('IMAGE_BUILD_FAILED', `mke2fs failed building image ${quote(name)}`, {
        details: made.stderr.trim(),
      });
    }
    chmodSync(tmpImage, 0o444);
    renameSync(tmpImage, file);
    const record: ImageRecord = {
      version: 1,
      name,
      path: file,
      hash,
      sizeBytes: statSync(file).size,
      createdAt: new Date().toISOString(),
      source: `busybox from ${busybox}`,
    };
    writeFileSync(tmpManifest, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(tmpManifest, manifestPath(paths, name));
    if (existing && existing.path !== file) rmSync(existing.path, { force: true });
    progress('done', 1);
    return record;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(tmpImage, { force: true });
    rmSync(tmpManifest, { force: true });
  }
}

/** Remove a cached image and its manifest. @throws {UmlError} IMAGE_NOT_FOUND */
export function removeImage(paths: HostPaths, name: string): ImageRecord {
  const rec = findImage(paths, name);
  if (!rec) {
    throw new UmlError('IMAGE_NOT_FOUND', `no cached image called ${quote(name)}`, {
      hint: 'run `umlkit image ls` to list images',
    });
  }
  const holder = findDiskHolders(paths.stateDir, rec.path)[0];
  if (holder) {
    throw new UmlError(
      'DISK_IN_USE',
      `image ${quote(name)} is in use by machine ${quote(holder.machine)} (pid ${holder.pid})`,
      {
        hint: 'stop that machine first',
      },
    );
  }
  rmSync(rec.path, { force: true });
  rmSync(manifestPath(paths, name), { force: true });
  return rec;
}

/** What `--image NAME|PATH` points at: a path (anything with a slash, or an existing file) or a name. */
export function imageArgIsPath(arg: string): boolean {
  return arg.includes('/') || (existsSync(arg) && statSync(arg).isFile());
}

export const resolveImagePath = (arg: string, cwd: string): string => resolve(cwd, arg);
