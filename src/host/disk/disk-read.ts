// Reads inside ext2/3/4 disk images from the host without root or mount, through e2fsprogs' debugfs.
import { quote, UmlError } from '../../core/errors.ts';
import { checkDiskFile } from '../file-checks.ts';
import { requireTool, runTool } from '../tool.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** `IMAGE:/path` → its two halves. @throws {UmlError} USAGE */
export function parseImagePath(text: string): { image: string; inner: string } {
  const at = text.indexOf(':/');
  if (at <= 0) {
    throw new UmlError('USAGE', `${quote(text)} is not IMAGE:/PATH`, {
      hint: 'e.g. `umlkit disk cat data.ext4:/foo.txt`',
    });
  }
  return { image: text.slice(0, at), inner: text.slice(at + 1) };
}

export interface DiskEntry {
  readonly name: string;
  readonly type: 'file' | 'dir' | 'symlink' | 'other';
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly sizeBytes: number;
}

// debugfs reports failures on stderr and still exits 0, so its stderr is the error signal. The disk file
// itself is checked first, so a missing or unreadable disk is never reported as a missing path inside it.
async function debugfs(image: string, verb: string, inner: string, env: Env): Promise<Buffer> {
  checkDiskFile(image, false, 'disk');
  const tool = requireTool('debugfs', env);
  // debugfs parses its request line itself; a quote or newline in the path would change the request.
  if (/["\n]/.test(inner)) throw new UmlError('USAGE', `path ${quote(inner)} contains a quote or newline`);
  const result = await runTool(tool, ['-R', `${verb} "${inner}"`, image]);
  const problems = result.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('debugfs '));
  if (result.code !== 0 || problems.length > 0) {
    const text = problems.join(' ');
    const missing = /not found|File not found/i.test(text);
    throw new UmlError(
      missing ? 'DISK_NOT_FOUND' : 'DISK_READ_FAILED',
      missing ? `${quote(inner)} not found in ${quote(image)}` : `cannot read ${quote(image)}: ${text}`,
      {
        hint: missing
          ? 'list the directory with `umlkit disk ls IMAGE:/DIR`'
          : 'the file may not hold an ext2/3/4 filesystem',
      },
    );
  }
  return result.stdout;
}

// The file type is mode >> 12 (S_IFMT >> 12), in decimal: 4 directory (0o04), 8 regular file (0o10),
// 10 symlink (0o12); fifos (1), character (2) and block (6) devices and sockets (12) are 'other'. Decimal on
// purpose: biome's useSimpleNumberKeys "fix" of octal keys rewrites 0o10 as 7 and 0o12 as 9 (wrong).
const TYPE_BITS: Record<number, DiskEntry['type']> = { 4: 'dir', 8: 'file', 10: 'symlink' };

export async function listDiskDir(image: string, inner: string, env: Env): Promise<DiskEntry[]> {
  const out = await debugfs(image, 'ls -p', inner, env);
  const entries: DiskEntry[] = [];
  // Format: /inode/mode(octal)/uid/gid/name/size/
  for (const line of out.toString('utf8').split('\n')) {
    const m = /^\/(\d+)\/(\d+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line.trim());
    if (!m || m[1] === '0') continue;
    const mode = Number.parseInt(m[2] as string, 8);
    entries.push({
      name: m[5] as string,
      type: TYPE_BITS[mode >> 12] ?? 'other',
      mode: (mode & 0o7777).toString(8).padStart(4, '0'),
      uid: Number(m[3]),
      gid: Number(m[4]),
      sizeBytes: Number(m[6] || 0),
    });
  }
  return entries;
}

export async function readDiskFile(image: string, inner: string, env: Env): Promise<Buffer> {
  // stat first: `cat` of a missing file prints nothing at all, and of a directory prints its blocks.
  const stat = (await debugfs(image, 'stat', inner, env)).toString();
  if (!/Type: regular/.test(stat)) {
    throw new UmlError('USAGE', `${quote(inner)} in ${quote(image)} is not a regular file`, {
      hint: 'use `umlkit disk ls` for directories',
    });
  }
  return debugfs(image, 'cat', inner, env);
}
