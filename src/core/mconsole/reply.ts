// Assembles the packets of one multi-datagram reply (the `more` flag) into one result.
import type { ReplyPacket } from './codec.ts';

const decoder = new TextDecoder();

/** The whole answer to one request. */
export interface MconsoleReply {
  /**
   * The error UML reported: 0 = OK, 1 = generic error, or a negative errno (e.g. -19 ENODEV for
   * `remove` of a missing disk). The kernel puts it on the first packet.
   */
  readonly err: number;
  /** The concatenated text of every packet, as bytes (UML's text need not be UTF-8). */
  readonly data: Uint8Array;
  /** The same, decoded as UTF-8. */
  readonly text: string;
  readonly packets: readonly ReplyPacket[];
  /**
   * The `err` of the LAST packet, which is what uml_mconsole prints as OK/ERR and exits with. It only
   * differs from `err` for a multi-packet error reply, which the 6.1 kernel never sends.
   */
  readonly lastErr: number;
}

/** Collects reply packets until one arrives with more = 0. */
export class ReplyAssembler {
  readonly #packets: ReplyPacket[] = [];
  #done = false;

  /** Add the next packet; returns the reply once it is complete, undefined while more are due. */
  push(packet: ReplyPacket): MconsoleReply | undefined {
    if (this.#done) throw new Error('reply already complete');
    this.#packets.push(packet);
    if (packet.more) return undefined;
    this.#done = true;
    return assembleReply(this.#packets);
  }

  /** The packets received so far (for a reply cut short, e.g. by `sysrq c`). */
  get partial(): readonly ReplyPacket[] {
    return this.#packets;
  }
}

/** Join a complete packet sequence into one reply. */
export function assembleReply(packets: readonly ReplyPacket[]): MconsoleReply {
  const first = packets[0];
  const last = packets[packets.length - 1];
  if (!first || !last) throw new Error('a reply has at least one packet');
  const data = concat(packets.map((p) => p.data));
  return { err: first.err, data, text: decoder.decode(data), packets: [...packets], lastErr: last.err };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
