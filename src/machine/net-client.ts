// Talks to a network's switch over its control socket: one JSON request, one JSON reply.
import { connect, type Socket } from 'node:net';
import { ERROR_CODES, type ErrorCode, quote, UmlError } from '../core/errors.ts';
import type { SwitchReply, SwitchRequest } from './net-protocol.ts';

const down = (net: string, socketPath: string, why: string): UmlError =>
  new UmlError(
    'NET_DOWN',
    `the switch of network ${quote(net)} does not answer at ${quote(socketPath)} (${why})`,
    {
      hint: `\`umlkit net start ${net}\` restarts it; see \`umlkit net inspect ${net}\``,
    },
  );

export function openSwitch(socketPath: string, net: string, timeoutMs = 3000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(down(net, socketPath, 'no answer'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(down(net, socketPath, (e as NodeJS.ErrnoException).code ?? e.message));
    });
  });
}

/** Turns an error reply back into the UmlError the switch raised. */
export function replyError(r: SwitchReply): UmlError {
  const code = (ERROR_CODES as readonly string[]).includes(r.error?.code ?? '')
    ? (r.error?.code as ErrorCode)
    : 'INTERNAL';
  return new UmlError(
    code,
    r.error?.message ?? 'the switch failed',
    r.error?.hint ? { hint: r.error.hint } : {},
  );
}

export async function requestSwitch(
  socketPath: string,
  net: string,
  req: SwitchRequest,
  timeoutMs = 5000,
): Promise<SwitchReply> {
  const socket = await openSwitch(socketPath, net);
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(down(net, socketPath, `no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(text) as SwitchReply;
        if (r.ok) resolve(r);
        else reject(replyError(r));
      } catch {
        reject(down(net, socketPath, 'the connection closed without a reply'));
      }
    });
    socket.write(`${JSON.stringify(req)}\n`);
  });
}
