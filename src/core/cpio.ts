// Writes cpio "newc" archives, the format the kernel unpacks as an initramfs. Pure: entries in, bytes out.

export interface CpioEntry {
  readonly path: string; // relative, no leading slash, e.g. "init" or "dev"
  readonly mode: number; // full st_mode, e.g. 0o100755 or 0o040755
  readonly data?: Uint8Array;
  /** For character devices (mode 0o020000 | perms). */
  readonly rdevMajor?: number;
  readonly rdevMinor?: number;
}

const encoder = new TextEncoder();
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** Encode entries (and the trailer) as one newc archive, owned by root with mtime 0 for reproducibility. */
export function encodeCpio(entries: readonly CpioEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let inode = 1;
  const add = (entry: CpioEntry): void => {
    const name = encoder.encode(`${entry.path}\0`);
    const data = entry.data ?? new Uint8Array(0);
    const fields = [
      inode++,
      entry.mode,
      0, // uid
      0, // gid
      1, // nlink
      0, // mtime
      data.length,
      0, // dev major
      0, // dev minor
      entry.rdevMajor ?? 0,
      entry.rdevMinor ?? 0,
      name.length,
      0, // check
    ];
    const header = encoder.encode(`070701${fields.map(hex8).join('')}`);
    chunks.push(
      header,
      name,
      new Uint8Array(pad4(header.length + name.length)),
      data,
      new Uint8Array(pad4(data.length)),
    );
  };
  for (const entry of entries) add(entry);
  add({ path: 'TRAILER!!!', mode: 0 });
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
