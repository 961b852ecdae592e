// Runs a host program to completion and captures its output; a missing program becomes TOOL_MISSING.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { quote, UmlError } from '../core/errors.ts';

export interface ToolResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Where a program named `name` lives on PATH (plus the sbin dirs, where e2fsprogs lives), if anywhere. */
export function findOnPath(name: string, pathEnv: string | undefined): string | undefined {
  const dirs = [...(pathEnv ?? '').split(delimiter), '/usr/sbin', '/sbin'].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** The apt package that provides each host tool we call, for the hint of TOOL_MISSING. */
const PACKAGE_OF: Record<string, string> = {
  mke2fs: 'e2fsprogs',
  debugfs: 'e2fsprogs',
  'apt-get': 'apt',
  'dpkg-deb': 'dpkg',
  busybox: 'busybox-static',
};

export function requireTool(name: string, env: Readonly<Record<string, string | undefined>>): string {
  const found = findOnPath(name, env.PATH);
  if (!found) {
    const pkg = PACKAGE_OF[name] ?? name;
    throw new UmlError('TOOL_MISSING', `the host program ${quote(name)} was not found on PATH`, {
      hint: `install it: sudo apt-get install ${pkg}`,
    });
  }
  return found;
}

export function runTool(
  file: string,
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    input?: Buffer;
    cwd?: string;
    onStderrLine?: (line: string) => void;
    /** Aborting stops the program (SIGTERM); the result then carries its exit by signal. */
    signal?: AbortSignal;
  } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    let partial = '';
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      err += text;
      if (options.onStderrLine) {
        const lines = (partial + text).split(/\r|\n/);
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') options.onStderrLine(line);
      }
    });
    child.on('error', (e) =>
      reject(
        new UmlError('TOOL_MISSING', `cannot run ${quote(file)}: ${e.message}`, {
          cause: e,
          hint: 'check that it is installed',
        }),
      ),
    );
    const stop = (): void => {
      child.kill('SIGTERM');
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted) stop();
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', stop);
      resolve({ code: code ?? 128 + (signal ? 9 : 0), stdout: Buffer.concat(out), stderr: err });
    });
    if (options.input) child.stdin?.end(options.input);
  });
}
