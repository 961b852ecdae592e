// Parses `--env K=V` (and `--env K`, which the caller fills from the host) into guest environment entries.
import { quote, UmlError } from './errors.ts';

export interface EnvEntry {
  readonly name: string;
  readonly value: string | undefined;
}

/** @throws {UmlError} INVALID_ENV when the name is not a shell-style variable name. */
export function parseEnvSpec(text: string): EnvEntry {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UmlError('INVALID_ENV', `environment entry ${quote(text)} has no valid variable name`, {
      hint: 'write NAME=VALUE, e.g. `--env LANG=C.UTF-8`; NAME alone copies the host value',
    });
  }
  return { name, value: eq < 0 ? undefined : text.slice(eq + 1) };
}

/** Merge entries over defaults: later entries win, order of first appearance is kept. */
export function mergeEnv(
  defaults: Readonly<Record<string, string>>,
  entries: readonly { name: string; value: string }[],
): string[] {
  const merged = new Map(Object.entries(defaults));
  for (const e of entries) merged.set(e.name, e.value);
  return [...merged].map(([k, v]) => `${k}=${v}`);
}
