import { expect, it } from 'vitest';
import { hostsFromLeases } from './hosts.ts';

it('names each machine by its lowest NIC on the network', () => {
  expect(hostsFromLeases({ 'a#1': '10.0.0.5', 'a#0': '10.0.0.2', 'b#3': '10.0.0.3' })).toEqual({
    a: '10.0.0.2',
    b: '10.0.0.3',
  });
});
