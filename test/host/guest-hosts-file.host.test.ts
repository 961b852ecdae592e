// The /etc/hosts rewrite umlkit runs in guests, run here by /bin/sh on a scratch file: several at once
// (a machine's own configuration while peers that boot refresh it) must not lose each other's blocks,
// nor the image's own lines.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { hostsScript } from '../../src/machine/net-attach.ts';

const dir = mkdtempSync(join(tmpdir(), 'ukhosts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sh = (script: string): Promise<number | null> =>
  new Promise((resolve) => spawn('/bin/sh', ['-c', script], { stdio: 'ignore' }).on('close', resolve));

it('concurrent rewrites of different networks keep every block and the image lines', async () => {
  const file = join(dir, 'hosts');
  writeFileSync(file, '127.0.0.1 localhost\n::1 localhost ip6-localhost\n');
  const nets = Array.from({ length: 12 }, (_, i) => `n${i}`);
  const codes = await Promise.all(
    nets.map((net, i) => sh(hostsScript(net, { [`m${i}`]: `10.0.${i}.2`, [`p${i}`]: `10.0.${i}.3` }, file))),
  );
  expect(codes.every((c) => c === 0)).toBe(true);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  expect(lines.slice(0, 2)).toEqual(['127.0.0.1 localhost', '::1 localhost ip6-localhost']);
  expect(lines.length).toBe(2 + 2 * nets.length);
  for (const [i, net] of nets.entries()) expect(lines).toContain(`10.0.${i}.3 p${i} # umlkit:${net}`);
  // No temp file or lock is left.
  expect(readFileSync(file, 'utf8')).not.toContain('umlkit-lock');
  const { readdirSync } = await import('node:fs');
  expect(readdirSync(dir)).toEqual(['hosts']);
});

it('replaces its own network block on a second run', async () => {
  const file = join(dir, 'hosts2');
  writeFileSync(file, '127.0.0.1 localhost\n');
  expect(await sh(hostsScript('lab', { a: '10.0.0.2' }, file))).toBe(0);
  expect(await sh(hostsScript('lab', { a: '10.0.0.2', b: '10.0.0.3' }, file))).toBe(0);
  expect(readFileSync(file, 'utf8')).toBe(
    '127.0.0.1 localhost\n10.0.0.2 a # umlkit:lab\n10.0.0.3 b # umlkit:lab\n',
  );
});
