// The CLI's main() in this process with captured streams: host-tier tests of verbs that need no guest.
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.ts';

export interface CliOutcome {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function runCliInProcess(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<CliOutcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main([...argv], { stdout, stderr, stdin: new PassThrough(), env: { ...env }, cwd });
  return { code, out, err };
}
