// What of the host a machine's sandbox shows it, the same for an ephemeral run and a long-lived machine:
// read-only its base image, the agent's initramfs and its read-only disks and shares; writable its overlay
// and its other disks and shares.
import type { DiskSpec } from '../../core/disk-spec.ts';
import type { ShareSpec } from '../../core/kernel-argv.ts';
import { INITRAMFS_PATH } from '../kernel-env.ts';

export function machineBinds(m: {
  readonly image: string;
  readonly overlay: string;
  readonly disks: readonly DiskSpec[];
  readonly shares: readonly ShareSpec[];
}): { readOnly: string[]; readWrite: string[] } {
  return {
    readOnly: [
      m.image,
      INITRAMFS_PATH,
      ...m.disks.filter((d) => d.readonly).map((d) => d.path),
      ...m.shares.filter((s) => s.readonly).map((s) => s.hostDir),
    ],
    readWrite: [
      m.overlay,
      ...m.disks.filter((d) => !d.readonly).map((d) => d.path),
      ...m.shares.filter((s) => !s.readonly).map((s) => s.hostDir),
    ],
  };
}
