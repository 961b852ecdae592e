// `umlkit doctor` reports the sandbox and the cgroup, layer by layer and controller by controller, as
// the unprivileged user: the full sandbox here, the Landlock fallback's warning when bwrap is missing,
// the refusal when neither is available, and a delegated cgroup tree as used.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeDelegatedCgroup } from '../helpers/sandbox-probe.ts';
import { createSandbox, ensureTestUser, REPO, type Sandbox, umlkit } from '../helpers/umlkit-cli.ts';

const user = ensureTestUser();
/** This kernel's Landlock ABI, from the built jail helper (0: none, the fallback cannot exist). */
const landlock =
  Number(execFileSync(join(REPO, 'dist/native/umlkit-jail'), ['--landlock-abi']).toString()) || 0;
let box: Sandbox;
beforeAll(() => {
  box = createSandbox(user ? { user } : {});
});
afterAll(() => box.dispose());

const line = (out: string, name: string): string =>
  out.split('\n').find((l) => new RegExp(`^\\S+\\s+${name}: `).test(l)) ?? `(no ${name} line)`;

describe(`doctor as ${user ?? 'the current user'}`, () => {
  it('shows the sandbox line and a cgroup line naming each controller', async () => {
    const r = await umlkit(box, ['doctor']);
    const out = r.stdout.toString();
    expect(line(out, 'sandbox')).toMatch(
      /^ok\s+sandbox: .*bwrap: user, mount, pid, ipc, uts and net namespaces; seccomp/,
    );
    const cg = line(out, 'cgroup');
    expect(cg).toMatch(/^(ok|warn)\s+cgroup: (used|unavailable): /);
    expect(cg).toMatch(/pids (used|unavailable) \(.*\), memory (used|unavailable) \(.*\), cpu not limited/);
    // This host: cgroup v2 with only hugetlb (docs/security.md), so never reported as used.
    expect(cg).toMatch(
      /^warn\s+cgroup: unavailable: \/sys\/fs\/cgroup\/unified offers hugetlb; missing pids, memory/,
    );
  });

  it.skipIf(landlock === 0)(
    'without bwrap: the Landlock fallback is a warning that says what is weaker',
    async () => {
      const r = await umlkit(box, ['doctor'], { env: { UMLKIT_BWRAP: '/nonexistent/bwrap' } });
      expect(line(r.stdout.toString(), 'sandbox')).toMatch(
        /^warn\s+sandbox: bubblewrap \(bwrap\) is not installed: falling back to Landlock ABI \d+ \+ seccomp \+ rlimits \(host pid and network namespaces shared\)$/,
      );
    },
  );

  it('with neither bwrap nor Landlock: the sandbox line fails and says machines refuse to start', async () => {
    const r = await umlkit(box, ['doctor'], {
      env: { UMLKIT_BWRAP: '/nonexistent/bwrap', UMLKIT_LANDLOCK: '0' },
    });
    expect(line(r.stdout.toString(), 'sandbox')).toMatch(
      /^FAIL\s+sandbox: .*machines refuse to start without --no-sandbox$/,
    );
  });

  it('with a delegated cgroup tree: cgroup used, pids and memory used', async () => {
    const own = fakeDelegatedCgroup(join(box.root, 'doctor-cg'), user);
    const r = await umlkit(box, ['doctor'], { env: { UMLKIT_CGROUP_ROOT: own } });
    expect(line(r.stdout.toString(), 'cgroup')).toBe(
      `ok    cgroup: used: ${own}/umlkit (delegated; pids and memory enabled for machine groups); pids used (pids.max per machine), memory used (memory.max per machine), cpu not limited (umlkit has no CPU-limit option; UML runs on one host CPU)`,
    );
  });
});
