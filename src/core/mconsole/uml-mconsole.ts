// The client-side rules of uml-utilities' uml_mconsole (20070815), so `umlkit mconsole` prints the same.
//
// uml_mconsole joins its argument words with spaces, trims trailing whitespace, handles a few "local"
// commands itself (matched by prefix, like the kernel does), rewrites `config ubd…=` paths to absolute
// ones, and prints `OK <text>` or `ERR <text>` from the err of the LAST reply packet, exiting with that
// err truncated to a byte (-19 → 237). Pure: the effects (files, cwd, signals) are the caller's.
import type { MconsoleReply } from './reply.ts';
import { concat } from './reply.ts';

const encoder = new TextEncoder();

/** uml_mconsole's local commands, in the order it tries them (first prefix match wins). */
export const LOCAL_COMMANDS = ['quit', 'help', 'switch', 'log', 'umlfs', 'mconsole-version', 'int'] as const;
export type LocalCommand = (typeof LOCAL_COMMANDS)[number];

/** The text uml_mconsole prints after the kernel's help. */
export const LOCAL_HELP =
  'Additional local mconsole commands:\n' +
  '    quit - Quit mconsole\n' +
  '    switch <socket-name> - Switch control to the given machine\n' +
  '    log -f <filename> - use contents of <filename> as UML log messages\n' +
  '    mconsole-version - version of this mconsole program\n' +
  '    int  - Interrupt UML session\n';

export const CLIENT_VERSION_LINE = 'uml_mconsole client version 2\n';
export const NO_PID_LINE = 'Cannot determine the PID of your UML session, not sending signal.\n';

// C isspace() in the "C" locale.
const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c);

/** Argument words → the one command line uml_mconsole sends: space-joined, trailing whitespace cut. */
export function joinWords(words: readonly string[]): string {
  let line = words.join(' ');
  while (isSpace(line[line.length - 1])) line = line.slice(0, -1);
  return line;
}

/** The local command a line runs, by uml_mconsole's prefix rule (`interrupt` is `int`); undefined = send it. */
export function localCommandOf(line: string): LocalCommand | undefined {
  return LOCAL_COMMANDS.find((c) => line.startsWith(c));
}

/** The argument of a local command: the text after its name, leading whitespace skipped. */
export function localArgument(line: string, command: LocalCommand): string {
  let rest = line.slice(command.length);
  while (isSpace(rest[0])) rest = rest.slice(1);
  return rest;
}

// "log " + text + NUL must fit the 512-byte data field, with one byte to spare as uml_mconsole computes it.
const LOG_CHUNK = 512 - 'log \0'.length - 1;
const LOG_PREFIX = encoder.encode('log ');

export type LogSource =
  | { readonly kind: 'text'; readonly text: Uint8Array }
  | { readonly kind: 'file'; readonly path: string };

/** What a `log …` line logs: its own text, or (`log -f FILE`) a file's contents. */
export function logSource(line: string): LogSource {
  const arg = localArgument(line, 'log');
  if (arg.startsWith('-f')) {
    let path = arg.slice(2);
    while (isSpace(path[0])) path = path.slice(1);
    return { kind: 'file', path };
  }
  return { kind: 'text', text: encoder.encode(arg) };
}

/**
 * The `log` requests uml_mconsole sends for some text: 506-byte chunks, then an extra `log \n` when the
 * text does not end in a newline, so the kernel flushes the line. A NUL ends a chunk, as C's strlen does.
 */
export function logRequests(text: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let newline = false;
  for (let at = 0; at < text.length; at += LOG_CHUNK) {
    const chunk = text.subarray(at, Math.min(at + LOG_CHUNK, text.length));
    const nul = chunk.indexOf(0);
    out.push(concat([LOG_PREFIX, nul < 0 ? chunk : chunk.subarray(0, nul)]));
    newline = chunk[chunk.length - 1] === 0x0a;
  }
  if (!newline) out.push(encoder.encode('log \n'));
  return out;
}

/**
 * `config ubd<N>=[cow,]file` with both paths made absolute by `absolutize`, as uml_mconsole does, since
 * UML resolves relative paths against its own cwd. `absolutize` returns undefined to keep a path as
 * given. Fields after the second comma (e.g. a serial) are kept as they are; uml_mconsole glues them onto
 * the backing path instead, which makes such commands fail.
 */
export function absolutizeConfig(line: string, absolutize: (path: string) => string | undefined): string {
  const m = /^(config[ \t\n\v\f\r]*ubd[^=]*=)([^,]*)(?:,([^,]*)(,.*)?)?$/s.exec(line);
  if (!m) return line;
  const [, head, first = '', second, tail = ''] = m;
  const abs = (p: string): string => absolutize(p) ?? p;
  return second === undefined ? `${head}${abs(first)}` : `${head}${abs(first)},${abs(second)}${tail}`;
}

/**
 * What uml_mconsole's absolutize() makes of a path: a path with a slash becomes the real (symlink-free)
 * directory plus the last component; a bare name becomes cwd/name. `realDir` returns undefined when the
 * directory cannot be entered, and the path is then kept.
 */
export function umlMconsoleAbsolute(
  path: string,
  cwd: string,
  realDir: (dir: string) => string | undefined,
): string | undefined {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return `${cwd}/${path}`;
  // chdir("") fails in C, so "/x" (slash at 0) is kept unchanged there too.
  const dir = realDir(path.slice(0, slash));
  return dir === undefined ? undefined : `${dir}${path.slice(slash)}`;
}

/** The line uml_mconsole prints for a reply: OK/ERR by the last packet's err, then the text. */
export function replyLine(reply: MconsoleReply): Uint8Array {
  return concat([encoder.encode(reply.lastErr ? 'ERR ' : 'OK '), reply.data, encoder.encode('\n')]);
}

/** The process exit status for an err, as C's exit() truncates it: -19 → 237, -16 → 240. */
export const exitStatusOf = (err: number): number => err & 0xff;
