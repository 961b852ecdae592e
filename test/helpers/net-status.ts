// Waits for a network's status as `net ls --json` reports it (a crashed switch is restarted by the
// supervisors of the machines on it within ~2 s).
import { type Sandbox, umlkit } from './umlkit-cli.ts';

/** The status last seen: the wanted one, or whatever it was when `timeoutMs` ran out. */
export async function waitForNetStatus(
  box: Sandbox,
  net: string,
  want: string,
  timeoutMs = 10_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = '';
  while (Date.now() < deadline && status !== want) {
    await new Promise((r) => setTimeout(r, 300));
    const r = await umlkit(box, ['net', 'ls', '--json']);
    if (r.code !== 0) continue;
    status =
      JSON.parse(r.stdout.toString()).networks.find((n: { name: string }) => n.name === net)?.status ?? '';
  }
  return status;
}
