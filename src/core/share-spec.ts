// Parses `--share HOSTDIR:GUESTDIR[:ro]`: a host directory mounted in the guest (hostfs, inside the
// sandbox so that no path the guest builds reaches past what the sandbox shows).
import { quote, UmlError } from './errors.ts';
import type { ShareSpec } from './kernel-argv.ts';

const usage = (text: string, why: string): UmlError =>
  new UmlError('INVALID_SHARE_SPEC', `share ${quote(text)} ${why}`, {
    hint: 'e.g. `--share ./src:/mnt/src:ro` (HOSTDIR:GUESTDIR, optionally :ro or :rw; GUESTDIR absolute)',
  });

/** The host part is returned as given (the caller resolves it against the working directory). */
export function parseShareSpec(text: string): ShareSpec {
  const parts = text.split(':');
  const mode = parts.length === 3 ? parts[2] : 'rw';
  if (parts.length < 2 || parts.length > 3 || (mode !== 'ro' && mode !== 'rw')) {
    throw usage(text, 'is not HOSTDIR:GUESTDIR or HOSTDIR:GUESTDIR:ro');
  }
  const [hostDir = '', guestDir = ''] = parts;
  if (hostDir === '') throw usage(text, 'has an empty host directory');
  if (!guestDir.startsWith('/') || guestDir === '/' || guestDir.split('/').includes('..')) {
    throw usage(text, 'needs an absolute guest directory other than `/`, without `..`');
  }
  return { hostDir, guestDir: guestDir.replace(/\/+$/, ''), readonly: mode === 'ro' };
}

/** A share needs the sandbox: without it, hostfs reaches the whole host (docs/security.md). */
export function refuseSharesWithoutSandbox(shares: readonly ShareSpec[], sandbox: boolean): void {
  if (shares.length > 0 && !sandbox) {
    throw new UmlError('INVALID_SHARE_SPEC', `--share ${quote(shares[0]?.hostDir)} needs the sandbox`, {
      hint: 'hostfs is not confined by the kernel (`..` and symlinks escape it); drop --no-sandbox, or use a --disk instead',
    });
  }
}
