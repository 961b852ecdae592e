// The learning switch's forwarding table: MAC → port, aged out, bounded; the clock is injected for tests.
import type { Mac } from './mac.ts';

export interface MacTableOptions {
  readonly now: () => number;
  /** Entries unseen for this long are forgotten (802.1D default: 300 s). */
  readonly agingMs?: number;
  /** Bound against MAC flooding by a hostile guest: the oldest entry goes first. */
  readonly maxEntries?: number;
}

/** K: the address as a string (tests, tables) or a 48-bit number (the switch's hot path). */
export class MacTable<P, K = Mac> {
  readonly #entries = new Map<K, { port: P; seen: number }>();
  readonly #now: () => number;
  readonly #agingMs: number;
  readonly #max: number;
  constructor(options: MacTableOptions) {
    this.#now = options.now;
    this.#agingMs = options.agingMs ?? 300_000;
    this.#max = options.maxEntries ?? 4096;
  }

  learn(mac: K, port: P): void {
    const existing = this.#entries.get(mac);
    const now = this.#now();
    // Fast path (every frame): same port, seen within the last second: only the time moves.
    if (existing && existing.port === port && now - existing.seen < 1000) {
      existing.seen = now;
      return;
    }
    // Map order is insertion order: re-insert so the first entry is (about) the least recently seen.
    if (existing) this.#entries.delete(mac);
    else if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(mac, { port, seen: now });
  }

  lookup(mac: K): P | undefined {
    const e = this.#entries.get(mac);
    if (!e) return undefined;
    if (this.#now() - e.seen > this.#agingMs) {
      this.#entries.delete(mac);
      return undefined;
    }
    return e.port;
  }

  /** A port that went away takes its addresses with it (a moved machine is relearned at once). */
  forgetPort(port: P): void {
    for (const [mac, e] of this.#entries) if (e.port === port) this.#entries.delete(mac);
  }

  entries(): { mac: K; port: P; ageMs: number }[] {
    const now = this.#now();
    return [...this.#entries].map(([mac, e]) => ({ mac, port: e.port, ageMs: now - e.seen }));
  }
}
