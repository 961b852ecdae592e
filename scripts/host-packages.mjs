// The Debian packages umlkit and its test suite need, and a check of which are missing.
import { execFileSync } from 'node:child_process';

/** Runtime: the kernel, ext4 tools, busybox for the default image, a C toolchain for the agent. */
/** bubblewrap: the sandbox every machine runs in (docs/security.md). */
export const RUNTIME_PACKAGES = [
  'user-mode-linux',
  'e2fsprogs',
  'busybox-static',
  'gcc',
  'libc6-dev',
  'bubblewrap',
];
/** Tests: uml-utilities (uml_mkcow, uml_moo, uml_mconsole) for interop checks, util-linux for runuser. */
export const TEST_PACKAGES = ['uml-utilities', 'util-linux', 'procps'];

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
