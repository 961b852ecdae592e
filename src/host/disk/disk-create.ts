// Creates disk images without root: a sparse raw file, or a filesystem made by mke2fs (optionally -d DIR).
import { closeSync, existsSync, ftruncateSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkKernelPath } from '../../core/disk-spec.ts';
import { quote, UmlError } from '../../core/errors.ts';
import { requireTool, runTool } from '../tool.ts';

export const DISK_FILESYSTEMS = ['ext4', 'ext3', 'ext2', 'raw'] as const;
export type DiskFilesystem = (typeof DISK_FILESYSTEMS)[number];

export interface DiskCreateRequest {
  readonly path: string;
  readonly sizeBytes: number;
  readonly fs: string;
  readonly fromDir?: string;
  readonly label?: string;
  readonly force?: boolean;
}

/**
 * Create the disk under a temporary name and rename it into place, so an interrupted or failed create
 * never leaves a half-made disk under the requested name.
 * @throws {UmlError} DISK_EXISTS, USAGE (bad --fs / --from), DISK_CREATE_FAILED
 */
export async function createDisk(
  req: DiskCreateRequest,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  if (!(DISK_FILESYSTEMS as readonly string[]).includes(req.fs)) {
    throw new UmlError('USAGE', `unknown filesystem ${quote(req.fs)}`, {
      hint: `use one of: ${DISK_FILESYSTEMS.join(', ')}`,
    });
  }
  checkKernelPath(req.path, 'disk');
  if (existsSync(req.path) && !req.force) {
    throw new UmlError('DISK_EXISTS', `disk ${quote(req.path)} already exists`, {
      hint: 'choose another path, or pass --force to replace it',
    });
  }
  if (!existsSync(dirname(req.path))) {
    throw new UmlError('DISK_CREATE_FAILED', `directory ${quote(dirname(req.path))} does not exist`, {
      hint: 'create it first',
    });
  }
  if (req.fromDir !== undefined) {
    if (req.fs === 'raw')
      throw new UmlError('USAGE', '--from needs a filesystem', { hint: 'use --fs ext4 with --from' });
    if (!existsSync(req.fromDir) || !statSync(req.fromDir).isDirectory()) {
      throw new UmlError('USAGE', `--from ${quote(req.fromDir)} is not a directory`, {
        hint: 'give a host directory to copy into the disk',
      });
    }
  }
  const tmp = join(dirname(req.path), `.${basename(req.path)}.tmp-${process.pid}`);
  try {
    if (req.fs === 'raw') {
      const fd = openSync(tmp, 'w', 0o644);
      ftruncateSync(fd, req.sizeBytes);
      closeSync(fd);
    } else {
      const mke2fs = requireTool('mke2fs', env);
      const kib = Math.floor(req.sizeBytes / 1024);
      const args = [
        '-q',
        '-F',
        '-t',
        req.fs,
        '-E',
        'root_owner=0:0',
        ...(req.label ? ['-L', req.label] : []),
        ...(req.fromDir ? ['-d', req.fromDir] : []),
        tmp,
        `${kib}k`,
      ];
      const made = await runTool(mke2fs, args);
      if (made.code !== 0) {
        throw new UmlError('DISK_CREATE_FAILED', `mke2fs could not create ${quote(req.path)}`, {
          details: made.stderr.trim().split('\n').slice(-5).join('\n'),
          hint: req.fromDir
            ? 'the size may be too small for the directory; try a larger --size'
            : 'check the size and free space',
        });
      }
    }
    renameSync(tmp, req.path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
