// Runs one uml_mconsole-style command line against a machine: local commands here, the rest to UML.
import { readFileSync, realpathSync } from 'node:fs';
import {
  absolutizeConfig,
  CLIENT_VERSION_LINE,
  exitStatusOf,
  LOCAL_HELP,
  localArgument,
  localCommandOf,
  logRequests,
  logSource,
  NO_PID_LINE,
  replyLine,
  umlMconsoleAbsolute,
} from '../core/mconsole/uml-mconsole.ts';
import type { MconsoleClient } from './client.ts';
import { type MconsoleTarget, resolveMconsoleTarget, type TargetContext } from './target.ts';

export interface SessionIo extends TargetContext {
  /** Where uml_mconsole writes stdout. */
  write(bytes: Uint8Array | string): void;
  /** Where it writes diagnostics (stderr). */
  warn(text: string): void;
}

/**
 * Run `line` as uml_mconsole would and return its exit status: the last reply packet's err as a byte
 * for kernel commands, 0 for help, log and the other local commands.
 * @throws {UmlError} MCONSOLE_UNREACHABLE and the client's other errors.
 */
export async function runUmlMconsoleLine(
  client: Pick<MconsoleClient, 'request'>,
  target: MconsoleTarget,
  line: string,
  io: SessionIo,
): Promise<number> {
  const send = async (request: string | Uint8Array): Promise<number> => {
    const reply = await client.request(request);
    io.write(replyLine(reply));
    return exitStatusOf(reply.lastErr);
  };
  switch (localCommandOf(line)) {
    case 'quit':
      return 0;
    case 'help':
      await send(line);
      io.write(LOCAL_HELP);
      return 0;
    case 'switch': {
      // One-shot mode has nothing to switch; like uml_mconsole, say whether the name resolves.
      const name = localArgument(line, 'switch');
      try {
        resolveMconsoleTarget(name, io);
      } catch (e) {
        io.warn(`${(e as Error).message}\n`);
        return 1;
      }
      io.write(`Switched to '${name}'\n`);
      return 0;
    }
    case 'log': {
      const source = logSource(line);
      let text: Uint8Array;
      if (source.kind === 'file') {
        try {
          text = readFileSync(source.path);
        } catch (e) {
          io.warn(`opening file: ${(e as Error).message}\n`);
          return 1;
        }
      } else {
        text = source.text;
      }
      for (const request of logRequests(text)) await send(request);
      return 0;
    }
    case 'mconsole-version':
      io.write(CLIENT_VERSION_LINE);
      return 0;
    case 'int':
      return interrupt(target, io);
    default: {
      // umlfs lands here: it needs FUSE fd passing, which 6.1 does not serve anyway ("Unknown command").
      const realDir = (dir: string, quiet = false): string | undefined => {
        try {
          return realpathSync(dir);
        } catch {
          if (!quiet) io.warn(`absolutize : Can't cd to '${dir}'\n`);
          return undefined;
        }
      };
      // The cwd as C's getcwd() reports it: the physical path.
      const absolutize = (p: string): string | undefined =>
        umlMconsoleAbsolute(p, realDir(io.cwd, true) ?? io.cwd, realDir);
      return send(absolutizeConfig(line, absolutize));
    }
  }
}

// SIGINT makes UML run its cleanup and exit 1, without syncing the guest (host-interfaces §1.5).
function interrupt(target: MconsoleTarget, io: SessionIo): number {
  const pid = target.umidDir === undefined ? Number.NaN : readPid(`${target.umidDir}/pid`);
  if (!Number.isInteger(pid) || pid <= 0) {
    io.write(NO_PID_LINE);
    return 0;
  }
  try {
    process.kill(pid, 'SIGINT');
  } catch (e) {
    io.warn(`kill ${pid}: ${(e as Error).message}\n`);
  }
  return 0;
}

function readPid(file: string): number {
  try {
    return Number.parseInt(readFileSync(file, 'utf8'), 10);
  } catch {
    return Number.NaN;
  }
}
