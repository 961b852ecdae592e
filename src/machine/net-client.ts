// Talks to a network's switch over its control socket: one JSON request, one JSON reply.
import type { Socket } from 'node:net';
import { ERROR_CODES, type ErrorCode, quote, UmlError } from '../core/errors.ts';
import { connectUnix, requestJsonLine } from '../host/unix-stream.ts';
import type { SwitchReply, SwitchRequest } from './net-protocol.ts';

const down = (net: string, socketPath: string, why: string): UmlError =>
  new UmlError(
    'NET_DOWN',
    `the switch of network ${quote(net)} does not answer at ${quote(socketPath)} (${why})`,
    {
      hint: `\`umlkit net start ${net}\` restarts it; see \`umlkit net inspect ${net}\``,
    },
  );

export const openSwitch = (socketPath: string, net: string, timeoutMs = 3000): Promise<Socket> =>
  connectUnix(socketPath, timeoutMs, (why) => down(net, socketPath, why));

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
  const r = (await requestJsonLine(socketPath, req, {
    connectTimeoutMs: 3000,
    replyTimeoutMs: timeoutMs,
    unreachable: (why) => down(net, socketPath, why),
  })) as SwitchReply;
  if (!r.ok) throw replyError(r);
  return r;
}
