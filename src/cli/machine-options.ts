// Options shared by `run`, `create` and `boot`: which image, how much memory, which disks and kernel.
import { resolve } from 'node:path';
import { type DiskSpec, parseDiskSpec } from '../core/disk-spec.ts';
import type { ShareSpec } from '../core/kernel-argv.ts';
import { parseShareSpec } from '../core/share-spec.ts';
import { parseDurationMs, parseSize } from '../core/units.ts';
import { kernelArgPath } from '../host/kernel-store.ts';
import type { HostPaths } from '../host/paths.ts';
import type { CliContext, OptionSpec, OptionValues } from './command.ts';
import { listOption, stringOption } from './parse-args.ts';
import { resolveImage } from './resolve-image.ts';

/** The sandbox options (docs/security.md), shared by every command that boots a machine. */
export const SANDBOX_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'share',
    type: 'string',
    value: 'HOSTDIR:GUESTDIR[:ro]',
    multiple: true,
    description: 'mount a host directory in the guest (needs the sandbox; :ro is enforced on the host)',
  },
  {
    name: 'no-sandbox',
    type: 'boolean',
    description: 'run the kernel unconfined, with all your permissions (guest root can reach your files)',
  },
];

export interface SandboxOptions {
  readonly sandbox: boolean;
  readonly shares: ShareSpec[];
}

export function readSandboxOptions(values: OptionValues, cwd: string): SandboxOptions {
  const shares = listOption(values, 'share').map((text) => {
    const s = parseShareSpec(text);
    return { ...s, hostDir: resolve(cwd, s.hostDir) };
  });
  return { sandbox: values['no-sandbox'] !== true, shares };
}

export const MACHINE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'image',
    type: 'string',
    value: 'NAME|PATH',
    description: 'root image: a cached image name (default: busybox, built on first use) or an ext4 file',
  },
  { name: 'mem', type: 'string', value: 'SIZE', description: 'guest memory (default 128M)' },
  {
    name: 'disk',
    type: 'string',
    value: 'PATH[:ro]',
    multiple: true,
    description: 'attach a disk: the first is /dev/ubdb, then ubdc, ...',
  },
  {
    name: 'kernel',
    type: 'string',
    value: 'PATH',
    description: 'UML kernel to boot (default: see `umlkit kernel ls`)',
  },
  ...SANDBOX_OPTIONS,
];

export interface MachineOptions {
  readonly imagePath: string;
  readonly memoryBytes: number;
  readonly disks: DiskSpec[];
  readonly kernelPath: string | undefined;
  readonly sandbox: boolean;
  readonly shares: ShareSpec[];
}

/** Parse and check the shared options; builds the default image on first use. */
export async function readMachineOptions(
  values: OptionValues,
  paths: HostPaths,
  ctx: CliContext,
): Promise<MachineOptions> {
  const memoryBytes = parseSize(stringOption(values, 'mem') ?? '128M', '--mem');
  const disks = listOption(values, 'disk').map((d) => {
    const spec = parseDiskSpec(d);
    return { ...spec, path: resolve(ctx.cwd, spec.path) };
  });
  const kernel = stringOption(values, 'kernel');
  const imagePath = await resolveImage(stringOption(values, 'image'), paths, ctx);
  return {
    imagePath,
    memoryBytes,
    disks,
    kernelPath: kernel ? kernelArgPath(kernel, paths, ctx.cwd) : undefined,
    ...readSandboxOptions(values, ctx.cwd),
  };
}

/** `--time S` of `stop` and `restart`: how long a clean shutdown may take before the kill. */
export const STOP_TIME_OPTION: OptionSpec = {
  name: 'time',
  type: 'string',
  value: 'S',
  description: 'seconds to wait for a clean shutdown before killing (default 10)',
};

/** The `--time` timeout in ms, checked once before any machine is touched. */
export function readStopTimeMs(values: OptionValues): number {
  const t = stringOption(values, 'time');
  return t ? parseDurationMs(t, '--time') : 10_000;
}
