// Client side of our unix stream control sockets (supervisors, switches): connect with a deadline, and
// the one-JSON-line-request, JSON-reply-then-close exchange both speak.
import { connect, type Socket } from 'node:net';

/** Why the other end did not answer; the caller turns it into its own coded error. */
export type Unreachable = (why: string) => Error;

export function connectUnix(
  socketPath: string,
  timeoutMs: number,
  unreachable: Unreachable,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unreachable('no answer'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(unreachable((e as NodeJS.ErrnoException).code ?? e.message));
    });
  });
}

/** Send `request` as one JSON line and parse what arrives until the server closes the connection. */
export async function requestJsonLine(
  socketPath: string,
  request: unknown,
  options: {
    readonly connectTimeoutMs: number;
    readonly replyTimeoutMs: number;
    readonly unreachable: Unreachable;
  },
): Promise<unknown> {
  const socket = await connectUnix(socketPath, options.connectTimeoutMs, options.unreachable);
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(options.unreachable(`no reply within ${options.replyTimeoutMs} ms`));
    }, options.replyTimeoutMs);
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(options.unreachable('the connection closed without a reply'));
      }
    });
    socket.write(`${JSON.stringify(request)}\n`);
  });
}
