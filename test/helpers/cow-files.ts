// Test helpers that make real files: bases with known bytes, overlays with chosen sectors written (as the
// kernel would write them), hashes, and temp dirs that clean themselves up.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCowHeader } from '../../src/core/cow/decode-header.ts';
import { cowLayout } from '../../src/core/cow/layout.ts';

export function tempDir(prefix = 'umlkit-cow-', parent = tmpdir()): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(parent, prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A base whose every 512-byte sector starts with its own number, so misplaced sectors show. */
export function makeBase(path: string, sizeBytes: number, mtime = 1_700_000_000): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let off = 0; off < sizeBytes; off += chunk.length) {
    const len = Math.min(chunk.length, sizeBytes - off);
    for (let s = 0; s < len; s += 512) {
      chunk.fill(0x5a, s, s + 512);
      chunk.writeUInt32LE((off + s) / 512, s);
    }
    writeSync(fd, chunk, 0, len, off);
  }
  closeSync(fd);
  utimesSync(path, mtime, mtime);
}

/** Deterministic pseudo-random numbers for reproducible dirty patterns. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Write sectors into an overlay as the kernel does: data at its place in the data area, bit set. */
export function writeSectors(
  overlay: string,
  sectors: Iterable<number>,
  fill = (s: number) => 0xc0 + (s % 61),
): number {
  const head = Buffer.alloc(4136);
  const fd = openSync(overlay, 'r+');
  try {
    readSync(fd, head, 0, head.length, 0);
    const h = decodeCowHeader(head, overlay);
    const l = cowLayout(h);
    const bitmap = Buffer.alloc(l.bitmapBytes);
    readSync(fd, bitmap, 0, bitmap.length, l.bitmapOffset);
    const sector = Buffer.alloc(512);
    let n = 0;
    for (const s of sectors) {
      sector.fill(fill(s));
      sector.writeUInt32LE(s, 4);
      writeSync(fd, sector, 0, 512, l.dataOffset + s * 512);
      bitmap[s >> 3] = (bitmap[s >> 3] ?? 0) | (1 << (s & 7));
      n++;
    }
    writeSync(fd, bitmap, 0, bitmap.length, l.bitmapOffset);
    return n;
  } finally {
    closeSync(fd);
  }
}

/** Put the sectors where `modified` differs from `base` into `overlay`: the overlay a guest would have left. */
export function overlayFromImages(base: string, modified: string, overlay: string): number {
  const a = readFileSync(base);
  const b = readFileSync(modified);
  const changed: number[] = [];
  for (let s = 0; s * 512 < a.length; s++) {
    if (a.compare(b, s * 512, s * 512 + 512, s * 512, s * 512 + 512) !== 0) changed.push(s);
  }
  const head = Buffer.alloc(4136);
  const fd = openSync(overlay, 'r+');
  try {
    readSync(fd, head, 0, head.length, 0);
    const l = cowLayout(decodeCowHeader(head, overlay));
    const bitmap = Buffer.alloc(l.bitmapBytes);
    for (const s of changed) {
      writeSync(fd, b, s * 512, 512, l.dataOffset + s * 512);
      bitmap[s >> 3] = (bitmap[s >> 3] ?? 0) | (1 << (s & 7));
    }
    writeSync(fd, bitmap, 0, bitmap.length, l.bitmapOffset);
  } finally {
    closeSync(fd);
  }
  return changed.length;
}

export const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

export const mtimeOf = (path: string): number => Math.floor(statSync(path).mtimeMs / 1000);

export function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** uml_moo and uml_mkcow from uml-utilities; tests that compare against them need them installed. */
export const UML_MKCOW = '/usr/bin/uml_mkcow';
export const UML_MOO = '/usr/bin/uml_moo';

/**
 * A child process holding a POSIX (fcntl) lock on `path`, the kind UML takes on its disks. Perl is used
 * because it is part of every Debian install; its `pack` lays out struct flock for x86-64.
 */
export async function holdPosixLock(
  path: string,
  mode: 'read' | 'write',
): Promise<{ pid: number; release: () => void }> {
  const type = mode === 'write' ? 'F_WRLCK' : 'F_RDLCK';
  const open = mode === 'write' ? '+<' : '<';
  const child = spawn(
    'perl',
    [
      '-e',
      `use Fcntl; open(my $f, "${open}", $ARGV[0]) or die "open: $!"; my $l = pack("s s x4 q q i x4", ${type}, SEEK_SET, 0, 0, 0); fcntl($f, F_SETLK, $l) or die "lock: $!"; $| = 1; print "locked\\n"; sleep 60`,
      path,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return { pid: child.pid as number, release: () => child.kill('SIGKILL') };
}
