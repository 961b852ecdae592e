// uml_mconsole's client-side rules, checked against what the real uml_mconsole sent and printed.
import { describe, expect, it } from 'vitest';
import { recordedCases, recordedCwd } from '../../../test/helpers/mconsole-fixtures.ts';
import { decodeReply, decodeRequest, encodeRequest } from './codec.ts';
import { assembleReply } from './reply.ts';
import {
  absolutizeConfig,
  exitStatusOf,
  joinWords,
  localCommandOf,
  logRequests,
  logSource,
  replyLine,
  umlMconsoleAbsolute,
} from './uml-mconsole.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The requests our rules derive from uml_mconsole's argument words. */
function requestsFor(words: readonly string[]): string[] {
  const line = joinWords(words);
  if (localCommandOf(line) === 'log') {
    const source = logSource(line);
    return source.kind === 'text' ? logRequests(source.text).map(dec) : [];
  }
  if (localCommandOf(line) === 'mconsole-version') return [];
  return [absolutizeConfig(line, (p) => umlMconsoleAbsolute(p, recordedCwd, (d) => d))];
}

describe('uml_mconsole rules', () => {
  it('derive exactly the requests uml_mconsole sent, for every recorded command line', () => {
    for (const c of recordedCases.filter((x) => x.words)) {
      const sent = c.exchanges.map((x) => decodeRequest(x.request).command);
      expect(requestsFor(c.words ?? []), c.name).toEqual(sent);
      for (const [i, r] of requestsFor(c.words ?? []).entries()) {
        expect(encodeRequest(r, { pad: true })).toEqual(c.exchanges[i]?.request);
      }
    }
  });

  it('print exactly what uml_mconsole printed for each recorded reply, with its exit status', () => {
    for (const c of recordedCases.filter(
      (x) => x.words && x.exchanges.length === 1 && !x.words.includes('help'),
    )) {
      const reply = assembleReply((c.exchanges[0]?.replies ?? []).map(decodeReply));
      expect(dec(replyLine(reply)), c.name).toBe(c.stdout);
      expect(exitStatusOf(reply.lastErr), c.name).toBe(c.status);
    }
  });

  it('join words with spaces and cut trailing whitespace (so `log "x\\n"` loses its newline)', () => {
    expect(joinWords(['config', 'ubdb=a b'])).toBe('config ubdb=a b');
    expect(joinWords(['log', 'line\n \t'])).toBe('log line');
  });

  it('match local commands by prefix, in uml_mconsole order', () => {
    expect(localCommandOf('interrupt')).toBe('int');
    expect(localCommandOf('helpme')).toBe('help');
    expect(localCommandOf('logx')).toBe('log');
    expect(localCommandOf('version')).toBeUndefined();
    expect(localCommandOf('inspect')).toBeUndefined();
  });

  it('chunk `log` text into 506-byte requests and add `log \\n` unless the text ends a line', () => {
    const long = 'a'.repeat(1000);
    expect(logRequests(enc(long)).map(dec)).toEqual([
      `log ${'a'.repeat(506)}`,
      `log ${'a'.repeat(494)}`,
      'log \n',
    ]);
    expect(logRequests(enc('x\n')).map(dec)).toEqual(['log x\n']);
    expect(logRequests(enc('')).map(dec)).toEqual(['log \n']);
    expect(logSource('log -f  /tmp/x')).toEqual({ kind: 'file', path: '/tmp/x' });
  });

  it('make `config ubd` paths absolute: bare names against cwd, others through the real directory', () => {
    const real = (d: string): string | undefined =>
      ({ '.': '/home/u', '../img': '/srv/img', '/x': undefined })[d];
    const abs = (p: string): string | undefined => umlMconsoleAbsolute(p, '/home/u', real);
    expect(absolutizeConfig('config ubdb=data.img', abs)).toBe('config ubdb=/home/u/data.img');
    expect(absolutizeConfig('config ubd1=./o.cow,../img/base', abs)).toBe(
      'config ubd1=/home/u/o.cow,/srv/img/base',
    );
    expect(absolutizeConfig('config ubd2=o.cow,base,SER', abs)).toBe(
      'config ubd2=/home/u/o.cow,/home/u/base,SER',
    );
    expect(absolutizeConfig('config con1=pts', abs)).toBe('config con1=pts');
    expect(absolutizeConfig('config ubdb', abs)).toBe('config ubdb');
    // As in C, "/img" has its slash at 0: chdir("") fails and the path is kept.
    expect(absolutizeConfig('config ubdb=/img', abs)).toBe('config ubdb=/img');
  });

  it('exit with err as a byte: -19 → 237, -16 → 240', () => {
    expect([exitStatusOf(0), exitStatusOf(1), exitStatusOf(-19), exitStatusOf(-16)]).toEqual([
      0, 1, 237, 240,
    ]);
  });
});
