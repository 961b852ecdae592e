// What clients ask a machine's supervisor over its unix socket. A connection starts with one JSON line;
// `exec` then carries agent-protocol frames both ways (session 0), `console` raw console bytes.
import type { ExecRequest } from '../core/agent-protocol.ts';

export type SupervisorRequest =
  | { readonly op: 'exec'; readonly request: ExecRequest }
  | { readonly op: 'console'; readonly tailBytes?: number }
  | { readonly op: 'stop'; readonly timeoutMs: number }
  | { readonly op: 'kill' }
  | { readonly op: 'status' };

export interface SupervisorReply {
  readonly ok: boolean;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
  readonly [key: string]: unknown;
}

/** The session id used on a client connection: one exec per connection. */
export const CLIENT_SESSION = 0;
