// The learning switch's forwarding table: MAC → port, aged out, bounded; the clock is injected for tests.
import type { Mac } from './mac.ts';

export interface MacTableOptions<K = Mac> {
  readonly now: () => number;
  /** Entries unseen for this long are forgotten (802.1D default: 300 s). */
  readonly agingMs?: number;
  /** Bound against MAC flooding by a hostile guest: the oldest entry goes first. */
  readonly maxEntries?: number;
  /** Told of every entry that goes (aged out, evicted, its port removed): a copy elsewhere follows. */
  readonly onForget?: (mac: K) => void;
}

/** K: the address as a string (tests, tables) or a 48-bit number (the switch's hot path). */
export class MacTable<P, K = Mac> {
  readonly #entries = new Map<K, { port: P; seen: number }>();
  readonly #now: () => number;
  readonly #agingMs: number;
  readonly #max: number;
  readonly #onForget: (mac: K) => void;
  constructor(options: MacTableOptions<K>) {
    this.#now = options.now;
    this.#agingMs = options.agingMs ?? 300_000;
    this.#max = options.maxEntries ?? 4096;
    this.#onForget = options.onForget ?? (() => {});
  }

  /** Returns whether the address is new or moved to another port (only the time moved otherwise). */
  learn(mac: K, port: P): boolean {
    const existing = this.#entries.get(mac);
    const now = this.#now();
    // Fast path (every frame): same port, seen within the last second: only the time moves.
    if (existing && existing.port === port && now - existing.seen < 1000) {
      existing.seen = now;
      return false;
    }
    // Map order is insertion order: re-insert so the first entry is (about) the least recently seen.
    if (existing) this.#entries.delete(mac);
    else if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#forget(oldest);
    }
    this.#entries.set(mac, { port, seen: now });
    return existing?.port !== port;
  }

  lookup(mac: K): P | undefined {
    const e = this.#entries.get(mac);
    if (!e) return undefined;
    if (this.#now() - e.seen > this.#agingMs) {
      this.#forget(mac);
      return undefined;
    }
    return e.port;
  }

  /** Forgets every entry unseen for longer than the aging time. */
  sweep(): void {
    const now = this.#now();
    for (const [mac, e] of this.#entries) if (now - e.seen > this.#agingMs) this.#forget(mac);
  }

  /** A port that went away takes its addresses with it (a moved machine is relearned at once). */
  forgetPort(port: P): void {
    for (const [mac, e] of this.#entries) if (e.port === port) this.#forget(mac);
  }

  #forget(mac: K): void {
    this.#entries.delete(mac);
    this.#onForget(mac);
  }

  entries(): { mac: K; port: P; ageMs: number }[] {
    const now = this.#now();
    return [...this.#entries].map(([mac, e]) => ({ mac, port: e.port, ageMs: now - e.seen }));
  }
}
