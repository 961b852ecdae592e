// Ten machines at once on one read-only base, each on its own overlay: each sees only its own write, and the
// base is byte-identical afterwards. Direct kernel spawns, so this proves the overlay format, not `umlkit run`.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitOverlay } from '../../src/host/cow/commit.ts';
import { createOverlay } from '../../src/host/cow/create.ts';
import { diffOverlay } from '../../src/host/cow/diff.ts';
import { sh, sha256, tempDir } from '../helpers/cow-files.ts';
import {
  boot,
  buildRootfs,
  guestSkipReason,
  killAllKernels,
  listGuestDir,
  readGuestFile,
} from '../helpers/uml-boot.ts';

const skip = guestSkipReason();
const MACHINES = 10;

const INIT = `
/bin/busybox mount -t proc proc /proc
id=none
for w in $(/bin/busybox cat /proc/cmdline); do
  case "$w" in cowid=*) id="\${w#cowid=}" ;; esac
done
/bin/busybox echo "machine $id" > "/machine-$id.txt"
/bin/busybox sync
/bin/busybox echo "SEES:$(cd / && /bin/busybox ls -1 | /bin/busybox grep '^machine-' | /bin/busybox tr '\\n' ' ')"
/bin/busybox poweroff -f`;

let t: ReturnType<typeof tempDir> | undefined;
afterAll(() => {
  killAllKernels();
  t?.cleanup();
});

describe.skipIf(skip)('ten machines on one base', () => {
  it('each writes, each sees only its own write, the base is unchanged (sha256)', {
    timeout: 600_000,
  }, async () => {
    t = tempDir('umlkit-ten-');
    const base = join(t.dir, 'base.img');
    buildRootfs(base, INIT);
    sh('chmod', ['0444', base]);
    const before = sha256(base);
    const overlays = Array.from({ length: MACHINES }, (_, i) => join(t?.dir ?? '', `m${i}.cow`));
    for (const o of overlays) createOverlay(o, base);
    const results = await Promise.all(
      overlays.map((o, i) =>
        boot(
          `cow10m${i}`,
          [`ubd0=${o},${base}`, 'root=/dev/ubda', 'rw', 'init=/init', `cowid=${i}`],
          300_000,
        ),
      ),
    );
    results.forEach((r, i) => {
      // Inside the guest, the root holds its own file and no other machine's.
      expect(/SEES:(.*)/.exec(r.output)?.[1]?.trim(), `machine ${i}:\n${r.output.slice(-1500)}`).toBe(
        `machine-${i}.txt`,
      );
      expect(r.code, `machine ${i}:\n${r.output.slice(-2000)}`).toBe(0);
    });
    expect(sha256(base)).toBe(before);
    expect(listGuestDir(base, '/').filter((n) => n.startsWith('machine-'))).toEqual([]);
    for (const [i, o] of overlays.entries()) {
      const flat = join(t.dir, `flat${i}.img`);
      await commitOverlay(o, flat);
      expect(listGuestDir(flat, '/').filter((n) => n.startsWith('machine-'))).toEqual([`machine-${i}.txt`]);
      expect(readGuestFile(flat, `/machine-${i}.txt`)).toBe(`machine ${i}\n`);
      const added = diffOverlay(o)
        .filesystem?.files.filter((f) => f.change === 'added')
        .map((f) => f.path);
      expect(added).toEqual([`/machine-${i}.txt`]);
    }
    expect(sha256(base)).toBe(before);
  });
});
