#!/usr/bin/env node
// Regenerates test/fixtures/mconsole/: real mconsole datagrams of the real kernel, and what uml_mconsole
// printed for them. Needs /usr/bin/linux.uml, /usr/bin/uml_mconsole, busybox, mke2fs and a prior
// `node scripts/build.mjs` (it uses the built addon and codec).
//
// uml_mconsole is pointed at a relay socket of ours: each request it sends is recorded, passed to the
// guest's mconsole, and each reply packet is recorded and passed back. So the fixtures hold the exact
// bytes of both real programs, plus uml_mconsole's stdout and exit status for the same exchange.
// A second boot records what only a dying or rebooting guest sends: cad, and the PANIC notification.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { UnixDatagramSocket, abstractAddress, pathAddress } = await import(
  join(root, 'dist/host/unix-dgram.js')
);
const { decodeReply, decodeNotify } = await import(join(root, 'dist/core/mconsole/codec.js'));

// A fixed, short directory: uml_mconsole writes absolute paths into `config ubd…` requests, and the
// fixtures should not change from one recording to the next.
const work = '/tmp/umlkit-mconsole-record';
const out = join(root, 'test/fixtures/mconsole');
const kernel = '/usr/bin/linux.uml';

rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'root/bin'), { recursive: true });
for (const d of ['proc', 'dev', 'mnt']) mkdirSync(join(work, 'root', d));
copyFileSync('/bin/busybox', join(work, 'root/bin/busybox'));
writeFileSync(
  join(work, 'root/init'),
  '#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho -n booted > /proc/mconsole\nwhile true; do /bin/busybox sleep 1; done\n',
  { mode: 0o755 },
);
execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', join(work, 'root'), join(work, 'root.img'), '64M']);
mkdirSync(join(work, 'data'));
writeFileSync(join(work, 'data/marker'), 'hot-plugged\n');
execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', join(work, 'data'), join(work, 'data.img'), '8M']);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const manifest = {
  kernel: execFileSync(kernel, ['--version']).toString().trim(),
  cwd: work,
  cases: [],
  notifications: [],
};
let fileSeq = 0;
const save = (name, bytes) => {
  const file = `${String(++fileSeq).padStart(3, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}.bin`;
  writeFileSync(join(out, file), bytes);
  return file;
};

const notify = new UnixDatagramSocket().bind(pathAddress(join(work, 'notify')));
const notes = [];
notify.onDatagram((d) => notes.push(d.data));
const waitNote = async (pred, ms = 30_000) => {
  const end = Date.now() + ms;
  for (;;) {
    const hit = notes.find((b) => pred(decodeNotify(b)));
    if (hit) return hit;
    if (Date.now() > end) throw new Error('timed out waiting for a notification');
    await new Promise((r) => setTimeout(r, 50));
  }
};

function boot(umid) {
  const child = spawn(
    kernel,
    [
      `uml_dir=${work}/u`,
      `umid=${umid}`,
      'mem=64M',
      `ubd0=${work}/${umid}.cow,${work}/root.img`,
      'root=/dev/ubda',
      'rw',
      'init=/init',
      'con=null',
      'ssl=null',
      'con0=null,fd:1',
      `mconsole=notify:${work}/notify`,
    ],
    {
      cwd: work,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, TMPDIR: '/dev/shm', LD_PRELOAD: join(root, 'dist/native/fpfix.so') },
    },
  );
  return child;
}

// Our side of the guest's mconsole: a connected socket; receive until more = 0, or until `quietMs`.
function guestLink(umid) {
  const s = new UnixDatagramSocket().bind(abstractAddress(`umlkit-record/${process.pid}/${umid}`));
  s.connect(pathAddress(`${work}/u/${umid}/mconsole`));
  return s;
}
async function exchange(link, request, { replies = 1, quietMs = 5000 } = {}) {
  link.send(request);
  const packets = [];
  for (let done = 0; done < replies; ) {
    const d = await link.receive({ timeoutMs: quietMs });
    if (!d) break;
    packets.push(d.data);
    if (!decodeReply(d.data).more) done++;
  }
  return packets;
}

// Run uml_mconsole against the relay and record everything that crosses it.
async function viaUmlMconsole(link, words) {
  const relayPath = join(work, 'relay');
  rmSync(relayPath, { force: true });
  const relay = new UnixDatagramSocket().bind(pathAddress(relayPath));
  const child = spawn('/usr/bin/uml_mconsole', [relayPath, ...words], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let stdout = '';
  child.stdout.on('data', (c) => (stdout += c));
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  let status;
  void exited.then((s) => {
    status = s;
  });
  const exchanges = [];
  while (status === undefined) {
    const d = await Promise.race([relay.receive(), exited.then(() => null)]);
    if (!d) break;
    const packets = await exchange(link, d.data);
    // uml_mconsole's socket is not connected to ours, so the kernel's 10-datagram queue limit applies:
    // wait for it to read rather than drop packets of long replies (stack, sysrq).
    for (const p of packets) {
      for (let tries = 0; relay.send(p, d.from) === 'EAGAIN' && tries < 500; tries++)
        await new Promise((r) => setTimeout(r, 10));
    }
    exchanges.push({ request: d.data, replies: packets });
  }
  await exited;
  clearTimeout(guard);
  relay.close();
  return { exchanges, stdout, status };
}

async function record(link, name, words) {
  const r = await viaUmlMconsole(link, words);
  manifest.cases.push({
    name,
    words,
    exchanges: r.exchanges.map((x, i) => ({
      request: save(`${name}-${i}-req`, x.request),
      replies: x.replies.map((p, j) => save(`${name}-${i}-rep${j}`, p)),
    })),
    stdout: r.stdout,
    status: r.status,
  });
  console.log(`${name}: ${r.exchanges.length} request(s), status ${r.status}`);
}

async function recordRaw(link, name, request, options) {
  const replies = await exchange(link, request, options);
  manifest.cases.push({
    name,
    raw: true,
    exchanges: [
      { request: save(`${name}-req`, request), replies: replies.map((p, j) => save(`${name}-rep${j}`, p)) },
    ],
  });
  console.log(`${name}: ${replies.length} packet(s)`);
}

const header = (magic, version, len) => {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(magic, 0);
  b.writeUInt32LE(version, 4);
  b.writeUInt32LE(len, 8);
  return b;
};

const children = [];
try {
  // Boot 1: every command that leaves the guest running, then halt.
  children.push(boot('rec1'));
  const booted1 = await waitNote((n) => n.type === 3);
  const socket1 = await waitNote((n) => n.type === 0);
  manifest.notifications.push({ name: 'socket', file: save('notify-socket', socket1) });
  manifest.notifications.push({ name: 'user', file: save('notify-user', booted1) });
  const link = guestLink('rec1');
  const cases = [
    ['version', ['version']],
    ['help', ['help']],
    ['config-ubda', ['config', 'ubda']],
    ['config-ubdb-empty', ['config', 'ubdb']],
    ['config-con0', ['config', 'con0']],
    ['config-mem', ['config', 'mem']],
    ['config-eth0', ['config', 'eth0']],
    ['config-ubdb-plug', ['config', 'ubdb=data.img']],
    ['config-ubdb-query', ['config', 'ubdb']],
    ['proc-partitions', ['proc', 'partitions']],
    ['remove-ubdb', ['remove', 'ubdb']],
    ['remove-ubdb-absent', ['remove', 'ubdb']],
    ['remove-ubd99', ['remove', 'ubd99']],
    ['proc-uptime', ['proc', 'uptime']],
    ['proc-net-dev', ['proc', 'net/dev']],
    ['stack-no-pid', ['stack']],
    ['stack-1', ['stack', '1']],
    ['stack-9999', ['stack', '9999']],
    ['sysrq-h', ['sysrq', 'h']],
    ['log', ['log', 'hello from the recorder']],
    ['log-newline', ['log', 'line\n']],
    ['go-not-stopped', ['go']],
    ['stop', ['stop']],
    ['stop-again', ['stop']],
    ['version-while-stopped', ['version']],
    ['go', ['go']],
    ['unknown', ['bogus']],
    ['prefix-versionxyz', ['versionXYZ']],
    ['mconsole-version', ['mconsole-version']],
  ];
  for (const [name, words] of cases) await record(link, name, words);
  await recordRaw(
    link,
    'raw-version-short',
    Buffer.concat([header(0xcafebabe, 2, 7), Buffer.from('version')]),
  );
  await recordRaw(link, 'raw-bad-magic', Buffer.concat([header(0x12345678, 2, 7), Buffer.from('version')]));
  await recordRaw(link, 'raw-version-1', Buffer.concat([header(0xcafebabe, 1, 7), Buffer.from('version')]), {
    replies: 2,
  });
  await recordRaw(
    link,
    'raw-too-large',
    Buffer.concat([header(0xcafebabe, 2, 600), Buffer.alloc(600, 0x61)]),
  );
  await record(link, 'halt', ['halt']);
  link.close();
  await new Promise((r) => children[0].on('exit', r));

  // Boot 2: cad reboots a guest whose init is a shell script, then sysrq c panics it.
  notes.length = 0;
  children.push(boot('rec2'));
  await waitNote((n) => n.type === 3);
  const link2 = guestLink('rec2');
  notes.length = 0;
  await record(link2, 'cad', ['cad']);
  link2.close();
  await waitNote((n) => n.type === 3, 60_000); // booted again, same pid
  const link3 = guestLink('rec2');
  await recordRaw(link3, 'raw-sysrq-c', Buffer.concat([header(0xcafebabe, 2, 7), Buffer.from('sysrq c')]), {
    quietMs: 3000,
  });
  manifest.notifications.push({
    name: 'panic',
    file: save('notify-panic', await waitNote((n) => n.type === 1)),
  });
  link3.close();
} finally {
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {}
  }
  notify.close();
}
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
// In the repository's own JSON style, so `biome format` leaves the fixture alone.
execFileSync(
  process.execPath,
  [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'format', '--write', join(out, 'manifest.json')],
  {
    stdio: 'ignore',
  },
);
rmSync(work, { recursive: true, force: true });
console.log(`wrote ${fileSeq} datagrams and manifest.json to ${out}`);
