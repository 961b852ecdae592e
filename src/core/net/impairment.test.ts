import { describe, expect, it } from 'vitest';
import { formatImpairment, NO_IMPAIRMENT, newLinkQueue, parseImpairment, schedule } from './impairment.ts';

describe('impairment', () => {
  it('parses, layers on a base and clears', () => {
    const a = parseImpairment('delay=50ms,jitter=1s,loss=10%,dup=1,rate=10mbit');
    expect(a).toEqual({ delayMs: 50, jitterMs: 1000, loss: 0.1, duplicate: 0.01, rateBps: 1e7 });
    expect(parseImpairment('loss=0', a).loss).toBe(0);
    expect(parseImpairment('loss=0', a).delayMs).toBe(50);
    expect(parseImpairment('clear', a)).toEqual(NO_IMPAIRMENT);
    expect(formatImpairment(parseImpairment('loss=100%'))).toBe('loss=100%');
    expect(() => parseImpairment('loss=200%')).toThrow(/`200%`/);
    expect(() => parseImpairment('wobble=1')).toThrow(/`wobble`/);
  });
  it('schedules loss, delay, duplication and rate without reordering', () => {
    const q = newLinkQueue();
    expect(schedule(parseImpairment('loss=100%'), q, 100, 0, () => 0.5)).toEqual([]);
    expect(schedule(parseImpairment('delay=10ms'), newLinkQueue(), 100, 5, () => 0.5)).toEqual([15]);
    expect(schedule(parseImpairment('dup=100%'), newLinkQueue(), 100, 5, () => 0.5)).toEqual([5, 5]);
    const r = parseImpairment('rate=8000bit'); // 1 byte per ms
    const rq = newLinkQueue();
    expect(schedule(r, rq, 100, 0, Math.random)).toEqual([100]);
    expect(schedule(r, rq, 100, 0, Math.random)).toEqual([200]);
    const j = parseImpairment('jitter=10ms');
    const jq = newLinkQueue();
    const t1 = schedule(j, jq, 1, 0, () => 1)[0] as number;
    const t2 = schedule(j, jq, 1, 1, () => 0)[0] as number;
    expect(t2).toBeGreaterThanOrEqual(t1);
  });
});
