// Link impairments (delay, jitter, loss, duplication, rate limit): parsing and the per-frame schedule.
// Pure: the random source and the clock are passed in, so the model is tested without timers.
import { quote, UmlError } from '../errors.ts';

export interface Impairment {
  readonly delayMs: number;
  readonly jitterMs: number;
  /** Probabilities 0..1. */
  readonly loss: number;
  readonly duplicate: number;
  /** Bits per second; 0 = unlimited. */
  readonly rateBps: number;
}

export const NO_IMPAIRMENT: Impairment = { delayMs: 0, jitterMs: 0, loss: 0, duplicate: 0, rateBps: 0 };

export const isImpaired = (i: Impairment): boolean =>
  i.delayMs > 0 || i.jitterMs > 0 || i.loss > 0 || i.duplicate > 0 || i.rateBps > 0;

const bad = (text: string, why: string): UmlError =>
  new UmlError('INVALID_IMPAIRMENT', `impairment ${quote(text)}: ${why}`, {
    hint: 'e.g. `delay=50ms,jitter=10ms,loss=5%,dup=1%,rate=10mbit` (`clear` removes all)',
  });

function duration(text: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s)?$/.exec(value);
  if (!m) throw bad(text, `${quote(value)} is not a duration (e.g. 20ms)`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'us' ? n / 1000 : n;
}

function percent(text: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(value);
  const n = Number(m?.[1]);
  if (!m || n > 100) throw bad(text, `${quote(value)} is not a percentage 0-100%`);
  return n / 100;
}

function rate(text: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)?$/i.exec(value);
  if (!m) throw bad(text, `${quote(value)} is not a rate (e.g. 10mbit)`);
  const unit = (m[2] ?? 'bit').toLowerCase();
  const f = unit === 'kbit' ? 1e3 : unit === 'mbit' ? 1e6 : unit === 'gbit' ? 1e9 : 1;
  return Number(m[1]) * f;
}

/** Applies `key=value,...` on top of `base` (unnamed keys keep their values): changes while running. */
export function parseImpairment(text: string, base: Impairment = NO_IMPAIRMENT): Impairment {
  if (text === 'clear' || text === 'none') return NO_IMPAIRMENT;
  const out = { ...base };
  for (const part of text.split(',')) {
    const [key = '', value, extra] = part.split('=');
    if (value === undefined || extra !== undefined) throw bad(text, `${quote(part)} is not key=value`);
    if (key === 'delay') out.delayMs = duration(text, value);
    else if (key === 'jitter') out.jitterMs = duration(text, value);
    else if (key === 'loss') out.loss = percent(text, value);
    else if (key === 'dup' || key === 'duplicate') out.duplicate = percent(text, value);
    else if (key === 'rate') out.rateBps = rate(text, value);
    else throw bad(text, `unknown key ${quote(key)} (delay, jitter, loss, dup, rate)`);
  }
  return out;
}

export function formatImpairment(i: Impairment): string {
  if (!isImpaired(i)) return 'none';
  const parts: string[] = [];
  if (i.delayMs) parts.push(`delay=${i.delayMs}ms`);
  if (i.jitterMs) parts.push(`jitter=${i.jitterMs}ms`);
  if (i.loss) parts.push(`loss=${+(i.loss * 100).toFixed(3)}%`);
  if (i.duplicate) parts.push(`dup=${+(i.duplicate * 100).toFixed(3)}%`);
  if (i.rateBps) parts.push(`rate=${i.rateBps}bit`);
  return parts.join(',');
}

/** Queue state of one impaired direction: when the wire is next free, so the rate limit holds. */
export interface LinkQueue {
  wireFreeAt: number;
  lastDeparture: number;
}

export const newLinkQueue = (): LinkQueue => ({ wireFreeAt: 0, lastDeparture: 0 });

/** Beyond this backlog a rate-limited link drops (tail drop), as a router's queue would. */
export const MAX_BACKLOG_MS = 1000;

/**
 * Departure times (ms) for one frame: [] if lost, two entries if duplicated. Departures never go
 * backwards, so jitter delays without reordering (TCP over a reordering link measures something else).
 */
export function schedule(
  i: Impairment,
  q: LinkQueue,
  frameBytes: number,
  now: number,
  random: () => number,
): number[] {
  if (i.loss > 0 && random() < i.loss) return [];
  let depart = now + i.delayMs + (i.jitterMs > 0 ? (random() * 2 - 1) * i.jitterMs : 0);
  if (i.rateBps > 0) {
    const start = Math.max(now, q.wireFreeAt);
    if (start - now > MAX_BACKLOG_MS) return [];
    q.wireFreeAt = start + (frameBytes * 8 * 1000) / i.rateBps;
    depart = Math.max(depart, q.wireFreeAt);
  }
  depart = Math.max(depart, q.lastDeparture, now);
  q.lastDeparture = depart;
  return i.duplicate > 0 && random() < i.duplicate ? [depart, depart] : [depart];
}
