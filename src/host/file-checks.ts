// Checks a disk or image file before launch, so that a bad path fails with a coded error instead of a
// guest-side I/O error or a hang (a FIFO would block UML's open forever).
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { hasCowMagic } from '../core/cow/decode-header.ts';
import { type ErrorCode, quote, UmlError } from '../core/errors.ts';

export function checkDiskFile(path: string, needWrite: boolean, what: 'image' | 'disk'): void {
  const notFound: ErrorCode = what === 'image' ? 'IMAGE_NOT_FOUND' : 'DISK_NOT_FOUND';
  const unreadable: ErrorCode = what === 'image' ? 'IMAGE_UNREADABLE' : 'DISK_UNREADABLE';
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    // A directory on the way that we may not search hides the file: that is a permission problem.
    if ((e as NodeJS.ErrnoException).code === 'EACCES') {
      throw new UmlError(unreadable, `${what} ${quote(path)} is not reachable by you (permission denied)`, {
        hint: 'a directory on its path does not let you in: fix its permissions, or move the file',
      });
    }
    throw new UmlError(notFound, `${what} ${quote(path)} does not exist`, {
      hint:
        what === 'image'
          ? 'build the default one with `umlkit image build busybox`, or check the path'
          : 'create one with `umlkit disk create PATH --size 100M`',
    });
  }
  if (!st.isFile()) {
    throw new UmlError(unreadable, `${what} ${quote(path)} is not a regular file`, {
      hint: 'machines take regular files as disks; devices, FIFOs and directories are refused',
    });
  }
  if (st.size === 0) {
    throw new UmlError(unreadable, `${what} ${quote(path)} is empty`, {
      hint: 'a disk needs a size: `umlkit disk create PATH --size 100M`',
    });
  }
  try {
    accessSync(path, needWrite ? constants.R_OK | constants.W_OK : constants.R_OK);
  } catch {
    throw new UmlError(
      unreadable,
      `${what} ${quote(path)} is not ${needWrite ? 'readable and writable' : 'readable'} by you`,
      {
        hint: needWrite ? 'fix its permissions, or attach it read-only with `:ro`' : 'fix its permissions',
      },
    );
  }
  // UML reads a COW header's backing path even with the `d` flag (to size the device): a user's disk
  // that names another host file would make the kernel open it, so such a disk is refused.
  if (what === 'disk' && startsWithCowMagic(path)) {
    throw new UmlError(
      unreadable,
      `disk ${quote(path)} is a UML COW overlay, whose header names another file`,
      {
        hint: 'attach a plain disk image; to use the overlay, merge it first (`umlkit cow merge`) or boot it as a machine',
      },
    );
  }
}

function startsWithCowMagic(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = new Uint8Array(4);
    return readSync(fd, head, 0, 4, 0) === 4 && hasCowMagic(head);
  } finally {
    closeSync(fd);
  }
}
