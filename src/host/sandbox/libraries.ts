// The shared libraries a dynamic ELF program loads (its interpreter included), so the sandbox can show
// the kernel exactly those files and nothing else of the host's /usr.
import { execFileSync } from 'node:child_process';
import { quote, UmlError } from '../../core/errors.ts';
import { readElfInfo } from '../elf.ts';
import { fileIdentity, recall, remember } from './probe-memo.ts';

const cache = new Map<string, string[]>();

const isPathList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((p) => typeof p === 'string' && fileIdentity(p) !== undefined);

/**
 * Absolute paths from `ldd` (glibc's own resolver, so the answer matches what ld.so will load). With
 * `memoFile`, the answer is kept across processes for this very binary (probe-memo.ts), as long as every
 * library it names still exists.
 */
export function sharedLibraries(program: string, memoFile?: string): string[] {
  const known = cache.get(program);
  if (known) return known;
  const id = fileIdentity(program);
  const key = `ldd\0${program}\0${id}`;
  const remembered = memoFile && id ? recall(memoFile, key, isPathList) : undefined;
  if (remembered) {
    cache.set(program, remembered);
    return remembered;
  }
  if (readElfInfo(program).isStatic) return [];
  let text: string;
  try {
    text = execFileSync('ldd', [program], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new UmlError('HOST_UNSUITABLE', `cannot list the libraries of ${quote(program)} with ldd`, {
      cause: e,
      hint: 'install libc-bin (ldd), or use a statically linked kernel',
    });
  }
  const libs: string[] = [];
  for (const line of text.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.push(m[1]);
    if (/not found/.test(line)) {
      throw new UmlError('HOST_UNSUITABLE', `${quote(program)} needs a missing library: ${line.trim()}`, {
        hint: 'install the library, or use another kernel',
      });
    }
  }
  cache.set(program, libs);
  if (memoFile && id) remember(memoFile, key, libs);
  return libs;
}
