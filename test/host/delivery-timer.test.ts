// Delayed deliveries leave in the order of their due times, ties in the order scheduled, whatever Node's
// timer lists would do with near-equal fractional durations.
import { expect, it } from 'vitest';
import { DeliveryTimer } from '../../src/host/net/delivery-timer.ts';

it('keeps the order of frames delayed alike within one turn, and puts an earlier due time first', async () => {
  const t = new DeliveryTimer();
  const out: string[] = [];
  const start = performance.now();
  for (let i = 0; i < 200; i++) {
    // The same delay measured from a clock that moves during the batch, as the switch does.
    const now = performance.now();
    t.at(now + 20, () => out.push(`f${i}`));
  }
  t.at(start + 5, () => out.push('early'));
  t.at(start + 60, () => out.push('late'));
  expect(t.pending).toBe(202);
  await new Promise((r) => setTimeout(r, 120));
  expect(out[0]).toBe('early');
  expect(out.slice(1, 201)).toEqual(Array.from({ length: 200 }, (_, i) => `f${i}`));
  expect(out.at(-1)).toBe('late');
  expect(t.pending).toBe(0);
});

it('runs nothing after close', async () => {
  const t = new DeliveryTimer();
  let ran = false;
  t.at(performance.now() + 5, () => {
    ran = true;
  });
  t.close();
  await new Promise((r) => setTimeout(r, 30));
  expect(ran).toBe(false);
});
