// Typed builders for every command of the 6.1 mconsole driver; each returns the request text to send.
import { quote, UmlError } from '../errors.ts';
import { MCONSOLE_MAX_COMMAND } from './constants.ts';

/**
 * The driver's table, in its order. The kernel picks the FIRST entry that is a prefix of the request
 * (strncmp with the entry's length), so `versionXYZ` runs `version` and `gox` runs `go`.
 */
export const KERNEL_COMMANDS = [
  'version',
  'halt',
  'reboot',
  'config',
  'remove',
  'sysrq',
  'help',
  'cad',
  'stop',
  'go',
  'log',
  'proc',
  'stack',
] as const;

export type KernelCommand = (typeof KERNEL_COMMANDS)[number];

/** Which driver command a request text runs, by the kernel's own prefix rule; undefined = "Unknown command". */
export function kernelCommandOf(text: string): KernelCommand | undefined {
  return KERNEL_COMMANDS.find((c) => text.startsWith(c));
}

const encoder = new TextEncoder();

function checked(text: string): string {
  const bytes = encoder.encode(text).length;
  if (bytes > MCONSOLE_MAX_COMMAND) {
    throw new UmlError(
      'USAGE',
      `mconsole command ${quote(`${text.slice(0, 40)}…`)} is ${bytes} bytes; the limit is ${MCONSOLE_MAX_COMMAND}`,
      {
        hint: 'a request carries at most 511 bytes of text; shorten the paths or the spec',
      },
    );
  }
  // The kernel reads the text as a C string, so a NUL would silently cut the command short.
  if (text.includes('\0')) throw new UmlError('USAGE', `mconsole command ${quote(text)} contains a NUL byte`);
  return text;
}

// Device names as the drivers register them with mconsole: ubd0..15 (or ubda..ubdp), con/ssl N, ethN,
// vecN, mem. Flags (r, s, d, c, t) may follow a ubd number.
const DEVICE = /^(?:ubd(?:\d{1,2}|[a-p])[rsdct]*|con\d{0,2}|ssl\d{0,2}|eth\d{1,3}|vec\d{1,3}|mem)$/;

function device(name: string): string {
  if (!DEVICE.test(name)) {
    throw new UmlError('USAGE', `${quote(name)} is not an mconsole device name`, {
      hint: 'use e.g. `ubd1` (or `ubdb`), `con3`, `ssl0`, `eth0`, `vec0` or `mem`',
    });
  }
  return name;
}

function field(what: string, value: string): string {
  // The kernel's ubd and channel parsers split on commas, so a comma inside a value changes its meaning.
  if (value === '' || /[,\0\n]/.test(value)) {
    throw new UmlError(
      'PATH_UNSUPPORTED',
      `${what} ${quote(value)} is empty or contains a comma or newline`,
      {
        hint: 'rename or symlink the file to a path without commas',
      },
    );
  }
  return value;
}

/** `version`: "<sysname> <nodename> <release> <version> <machine>". */
export const version = (): string => 'version';
/** `help`: the driver's fixed help text (two packets). */
export const help = (): string => 'help';
/** `halt`: replies "" then halts WITHOUT syncing the guest's filesystems. */
export const halt = (): string => 'halt';
/** `reboot`: replies "" then re-execs the kernel (or exits under `noreboot`). */
export const reboot = (): string => 'reboot';
/** `cad`: Ctrl-Alt-Del; a reboot unless the guest's init disabled C_A_D (then SIGINT to init). */
export const cad = (): string => 'cad';
/** `stop`: freeze the guest; only mconsole requests are served until `go`. */
export const stop = (): string => 'stop';
/** `go`: resume after `stop` (err 1 "Not stopped" otherwise). */
export const go = (): string => 'go';

/**
 * `sysrq <key>`: runs the SysRq action; its printk output streams back as packets.
 * Note: on Debian's 6.1 build `sysrq t` crashes the kernel ("Segfault with no mm" in
 * print_worker_info), and `sysrq c` panics by design and never sends a final packet.
 */
export function sysrq(key: string): string {
  if (!/^[0-9a-zA-Z]$/.test(key)) {
    throw new UmlError('USAGE', `sysrq key ${quote(key)} must be one letter or digit`, {
      hint: 'e.g. `s` (sync), `u` (remount ro), `m` (memory)',
    });
  }
  return `sysrq ${key}`;
}

/** `config <dev>`: query, e.g. `ubd1` → its file, or "" when unplugged. */
export const config = (dev: string): string => checked(`config ${device(dev)}`);

/** `config <dev>=<spec>`: hot-plug with the command-line syntax of that driver. */
export function configSet(dev: string, spec: string): string {
  if (spec === '' || /[\0\n]/.test(spec))
    throw new UmlError('USAGE', `device spec ${quote(spec)} is empty or has a newline`);
  return checked(`config ${device(dev)}=${spec}`);
}

export interface DiskPlug {
  /** 0..15, or the letter form a..p (`ubdb` = 1). */
  readonly index: number | string;
  readonly file: string;
  /** A COW overlay on `file`; UML creates it when missing. */
  readonly cow?: string;
  readonly readOnly?: boolean;
}

/** Hot-plug a disk: `config ubd<n>[r]=[cow,]file`. Paths should be absolute (UML resolves from its cwd). */
export function configDisk(disk: DiskPlug): string {
  const n = typeof disk.index === 'number' ? disk.index : disk.index.charCodeAt(0) - 97;
  if (
    !Number.isInteger(n) ||
    n < 0 ||
    n > 15 ||
    (typeof disk.index === 'string' && disk.index.length !== 1)
  ) {
    throw new UmlError('USAGE', `disk index ${quote(disk.index)} is not 0..15 or a..p`);
  }
  const file = field('disk file', disk.file);
  const target = disk.cow === undefined ? file : `${field('COW file', disk.cow)},${file}`;
  return checked(`config ubd${n}${disk.readOnly ? 'r' : ''}=${target}`);
}

/** Hot-plug a NIC: `config eth<n>=<transport spec>`, e.g. `daemon,,unix,/path/ctl`. */
export function configNic(index: number, spec: string): string {
  if (!Number.isInteger(index) || index < 0)
    throw new UmlError('USAGE', `NIC index ${quote(index)} is not a number`);
  return configSet(`eth${index}`, spec);
}

/** `remove <dev>`: unplug; ubd replies -19 if absent and -16 while the guest has it open. */
export const remove = (dev: string): string => checked(`remove ${device(dev)}`);

/**
 * `log <text>`: printk at KERN_WARNING. End the text with `\n`, or the line stays pending in the
 * kernel's log buffer. Longer text must be split (see logChunks in uml-mconsole.ts).
 */
export const log = (text: string): string => checked(`log ${text}`);

/** `proc <path>`: the contents of the guest's /proc/<path> (only files with read_iter; not net/dev). */
export function proc(path: string): string {
  if (!/^[^\s\0]+$/.test(path))
    throw new UmlError('USAGE', `proc path ${quote(path)} is empty or has spaces`);
  return checked(`proc ${path}`);
}

/** `stack <pid>`: the kernel stack of a guest pid. */
export function stack(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 0)
    throw new UmlError('USAGE', `guest pid ${quote(pid)} is not a positive integer`);
  return `stack ${pid}`;
}
