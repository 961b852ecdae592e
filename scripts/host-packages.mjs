// The Debian packages umlkit and its test suite need, and a check of which are missing.
import { execFileSync } from 'node:child_process';

/**
 * Runtime: the kernel, ext4 tools, busybox for the default image, a C toolchain for the agent, bubblewrap
 * for the sandbox every machine runs in (docs/security.md), passt for `--net user` (docs/networking.md).
 */
export const RUNTIME_PACKAGES = [
  'user-mode-linux',
  'e2fsprogs',
  'busybox-static',
  'gcc',
  'libc6-dev',
  'bubblewrap',
  'passt',
];
/**
 * Tests: uml-utilities (uml_mkcow, uml_moo, uml_mconsole) for interop checks, util-linux for runuser,
 * tshark and tcpdump to read captures, gdb for `run --gdb`, iproute2 for the tap test's namespace.
 */
export const TEST_PACKAGES = [
  'uml-utilities',
  'util-linux',
  'procps',
  'tshark',
  'tcpdump',
  'gdb',
  'iproute2',
];
/**
 * `umlkit kernel build` and `npm run test:kernel` (docs/kernels.md): the compiler and kbuild's tools, libelf
 * headers, tar/xz/patch for Debian's source packages, git for the tree and bisect tests, gdb for `run --gdb`.
 * The kernel sources themselves are fetched without root (apt-get download), so linux-source-X is not here.
 */
export const KERNEL_BUILD_PACKAGES = [
  'gcc',
  'make',
  'flex',
  'bison',
  'bc',
  'perl',
  'libc6-dev',
  'libelf-dev',
  'tar',
  'xz-utils',
  'patch',
  'git',
  'gdb',
];

export function missingPackages(packages) {
  return packages.filter((p) => {
    try {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
      const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', p], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString();
      return !status.includes('install ok installed');
    } catch {
      return true;
    }
  });
}
