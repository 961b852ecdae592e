// stdin is only borrowed by a command: once it is done, stop reading and let the process exit even
// though stdin is still open (a terminal, or a pipe whose writer lingers).
import type { CliContext } from './command.ts';

export function releaseStdin(ctx: CliContext): void {
  ctx.stdin.pause();
  const handle = ctx.stdin as { unref?: () => void };
  if (typeof handle.unref === 'function') handle.unref();
}
