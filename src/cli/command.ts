// The shape of one CLI command: its option table (which also renders --help) and its run function.
import type { Readable, Writable } from 'node:stream';

export interface OptionSpec {
  readonly name: string; // long name without dashes
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** Placeholder shown in help, e.g. SIZE or PATH[:ro]. */
  readonly value?: string;
  readonly description: string;
}

/** What a command may touch. Tests pass fakes; bin/umlkit passes the real process. */
export interface CliContext {
  readonly stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: Readable & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedArgs {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  /** Everything after `--`, or after the first positional for commands that take a guest command. */
  readonly rest: readonly string[];
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly description?: string;
  readonly options: readonly OptionSpec[];
  readonly examples?: readonly string[];
  /** The first positional starts the guest command (as in `docker run IMAGE CMD…`). */
  readonly commandAfterPositionals?: number;
  run(args: ParsedArgs, ctx: CliContext): Promise<number>;
}

export const JSON_OPTION: OptionSpec = {
  name: 'json',
  type: 'boolean',
  description: 'print JSON instead of a table',
};
