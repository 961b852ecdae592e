// The one place errors are rendered for people: code, message, evidence, hint. No stack for user mistakes.
import { isUmlError } from '../core/errors.ts';

export function renderError(err: unknown, debug: boolean): string {
  if (isUmlError(err)) {
    const lines = [`error[${err.code}]: ${err.message}`];
    for (const issue of err.issues) lines.push(`  - ${issue.path}: ${issue.message}`);
    if (err.details) lines.push(err.details.replace(/\n$/, ''));
    if (err.hint) lines.push(`hint: ${err.hint}`);
    if (debug && err.stack) lines.push(err.stack);
    return `${lines.join('\n')}\n`;
  }
  const message = err instanceof Error ? err.message : String(err);
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return `error[INTERNAL]: ${message}\nhint: this is a bug in umlkit; rerun with UMLKIT_DEBUG=1 and report the output${stack}\n`;
}

export function errorJson(err: unknown): string {
  if (isUmlError(err)) {
    return `${JSON.stringify({ error: { code: err.code, message: err.message, hint: err.hint ?? null, issues: err.issues } })}\n`;
  }
  return `${JSON.stringify({ error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } })}\n`;
}

/** Plain column table; the first row is the header. */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return `${rows
    .map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n')}\n`;
}
