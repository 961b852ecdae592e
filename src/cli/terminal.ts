// Puts the host terminal in raw mode for `-t`, follows its size, and always puts it back.
import type { Session } from '../machine/agent-link.ts';
import type { CliContext } from './command.ts';

export interface AttachedTerminal {
  readonly rows: number;
  readonly cols: number;
  bind(session: Session): void;
  restore(): void;
}

export function attachTerminal(ctx: CliContext): AttachedTerminal {
  const stdin = ctx.stdin as NodeJS.ReadStream;
  const stdout = ctx.stdout as NodeJS.WriteStream;
  // Raw: Ctrl-C, Ctrl-Z and friends travel to the guest as bytes, where the guest's terminal turns
  // them into signals for its foreground process.
  stdin.setRawMode?.(true);
  let onResize: (() => void) | undefined;
  return {
    rows: stdout.rows ?? 24,
    cols: stdout.columns ?? 80,
    bind(session) {
      onResize = () => session.resize(stdout.rows ?? 24, stdout.columns ?? 80);
      stdout.on('resize', onResize);
    },
    restore() {
      if (onResize) stdout.off('resize', onResize);
      stdin.setRawMode?.(false);
    },
  };
}
