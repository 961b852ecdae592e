// Turns argv into option values, positionals and the guest command, with usage errors that quote the bad word.
import { quote, UmlError } from '../core/errors.ts';
import type { Command, OptionSpec, OptionValues, ParsedArgs } from './command.ts';

const HELP: OptionSpec = { name: 'help', short: 'h', type: 'boolean', description: 'show this help' };

export function parseCommandArgs(command: Command, argv: readonly string[]): ParsedArgs {
  const specs = [...command.options, HELP];
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const values: OptionValues = {};
  const positionals: string[] = [];
  let rest: string[] = [];
  const set = (spec: OptionSpec, value: string | boolean): void => {
    if (spec.multiple) {
      const list = (values[spec.name] as string[] | undefined) ?? [];
      list.push(String(value));
      values[spec.name] = list;
    } else {
      values[spec.name] = value;
    }
  };
  const usage = (message: string): UmlError =>
    new UmlError('USAGE', message, { hint: `see \`umlkit ${command.name} --help\`` });

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = byLong.get(name);
      if (!spec) throw usage(`unknown option ${quote(`--${name}`)} for \`umlkit ${command.name}\``);
      if (spec.type === 'boolean') {
        if (eq >= 0) throw usage(`option ${quote(`--${name}`)} takes no value`);
        set(spec, true);
      } else {
        const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined)
          throw usage(`option ${quote(`--${name}`)} needs a value (${spec.value ?? 'VALUE'})`);
        set(spec, value);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // Short flags may be bundled (-it); a string flag takes the rest of the word or the next word.
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(arg[j] as string);
        if (!spec) throw usage(`unknown option ${quote(`-${arg[j]}`)} for \`umlkit ${command.name}\``);
        if (spec.type === 'boolean') {
          set(spec, true);
          continue;
        }
        const value = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
        if (value === undefined)
          throw usage(`option ${quote(`-${spec.short}`)} needs a value (${spec.value ?? 'VALUE'})`);
        set(spec, value);
        break;
      }
      continue;
    }
    if (
      command.commandAfterPositionals !== undefined &&
      positionals.length >= command.commandAfterPositionals
    ) {
      rest = argv.slice(i);
      break;
    }
    positionals.push(arg);
  }
  return { values, positionals, rest };
}

/** The --help text, rendered from the same table the parser uses. */
export function renderHelp(command: Command): string {
  const lines = [`umlkit ${command.name} — ${command.summary}`, '', `Usage: ${command.usage}`];
  if (command.description) lines.push('', command.description);
  const specs = [...command.options, HELP];
  const left = specs.map(
    (s) =>
      `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : ''}`,
  );
  const width = Math.max(...left.map((l) => l.length));
  lines.push('', 'Options:');
  specs.forEach((s, i) => {
    lines.push(
      `  ${(left[i] as string).padEnd(width)}  ${s.description}${s.multiple ? ' (repeatable)' : ''}`,
    );
  });
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

export const stringOption = (values: OptionValues, name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
};

export const listOption = (values: OptionValues, name: string): string[] => {
  const v = values[name];
  return Array.isArray(v) ? v : [];
};
