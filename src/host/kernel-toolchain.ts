// Checks the host has what a UML kernel build needs, and names the Debian packages that fix what is missing.
import { existsSync } from 'node:fs';
import { quote, UmlError } from '../core/errors.ts';
import { findOnPath } from './tool.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Each piece: how to tell it is there (a program on PATH or a header file), and the package that has it. */
const PIECES: readonly { readonly what: string; readonly check: string; readonly pkg: string }[] = [
  { what: 'gcc', check: 'bin:gcc', pkg: 'gcc' },
  { what: 'make', check: 'bin:make', pkg: 'make' },
  { what: 'flex', check: 'bin:flex', pkg: 'flex' },
  { what: 'bison', check: 'bin:bison', pkg: 'bison' },
  { what: 'bc', check: 'bin:bc', pkg: 'bc' },
  { what: 'perl', check: 'bin:perl', pkg: 'perl' },
  { what: 'libc headers', check: 'file:/usr/include/stdio.h', pkg: 'libc6-dev' },
  { what: 'libelf headers', check: 'file:/usr/include/gelf.h', pkg: 'libelf-dev' },
  { what: 'tar', check: 'bin:tar', pkg: 'tar' },
  { what: 'xz', check: 'bin:xz', pkg: 'xz-utils' },
  { what: 'patch', check: 'bin:patch', pkg: 'patch' },
];

/** Everything `kernel build` may need, as Debian packages (scripts/host-packages.mjs lists the same). */
export const KERNEL_BUILD_PACKAGES = PIECES.map((p) => p.pkg);

/** The missing pieces' names and their packages. */
export function missingToolchain(env: Env): { what: string; pkg: string }[] {
  return PIECES.filter((p) => {
    const [kind, name] = p.check.split(':') as [string, string];
    return kind === 'bin' ? findOnPath(name, env.PATH) === undefined : !existsSync(name);
  }).map(({ what, pkg }) => ({ what, pkg }));
}

/** @throws {UmlError} KERNEL_TOOLCHAIN_MISSING naming each missing piece and the apt line that installs them. */
export function requireToolchain(env: Env): void {
  const missing = missingToolchain(env);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((m) => m.pkg))].join(' ');
  throw new UmlError(
    'KERNEL_TOOLCHAIN_MISSING',
    `building a kernel needs ${missing.map((m) => quote(m.what)).join(', ')}, which this host lacks`,
    { hint: `install them: sudo apt-get install ${pkgs}` },
  );
}
