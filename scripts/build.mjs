#!/usr/bin/env node
// Builds everything `npm ci` needs: the TypeScript (dist/), the static guest agent, its initramfs and the
// XSAVE ptrace shim, the datagram-socket addon, the file-copy addon and the switch's fast-path addon.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'native');
mkdirSync(out, { recursive: true });

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const hasGcc = spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status === 0;

// Each C piece is keyed by the hash of its source (a `.sha256` beside the output), not by mtimes, which a
// fresh clone resets. Without gcc, the copies in native/prebuilt/ are used when built from the same source.
function buildNative(name, source, args) {
  const target = join(out, name);
  const hash = sha256(source);
  const marker = `${target}.sha256`;
  if (existsSync(target) && existsSync(marker) && readFileSync(marker, 'utf8') === hash) return;
  const prebuilt = join(root, 'native', 'prebuilt', name);
  if (hasGcc) {
    const r = spawnSync('gcc', [...args, '-o', `${target}.tmp`, source], { stdio: 'inherit' });
    if (r.status !== 0) fail(`gcc could not compile ${source}`);
    renameSync(`${target}.tmp`, target);
  } else if (existsSync(prebuilt) && readFileSync(`${prebuilt}.sha256`, 'utf8') === hash) {
    copyFileSync(prebuilt, target);
    chmodSync(target, 0o755);
  } else {
    fail(`no C compiler to build ${source}, and no prebuilt copy for this source`);
  }
  writeFileSync(marker, hash);
}

function fail(message) {
  console.error(
    `error[TOOL_MISSING]: ${message}\nhint: install a C toolchain: sudo apt-get install gcc libc6-dev`,
  );
  process.exit(1);
}

/** The native pieces: output name, source, gcc flags. */
export const NATIVE = [
  ['umlkit-agent', 'native/agent/agent.c', ['-static', '-O2', '-s', '-Wall']],
  ['fpfix.so', 'native/fpfix/fpfix.c', ['-shared', '-fPIC', '-O2', '-s', '-Wall', '-ldl']],
  ['udg.node', 'native/udg/udg.c', ['-shared', '-fPIC', '-O2', '-s', '-Wall', '-I/usr/include/node']],
  [
    'fileio.node',
    'native/fileio/fileio.c',
    ['-shared', '-fPIC', '-O2', '-s', '-Wall', '-I/usr/include/node'],
  ],
  [
    'mapmerge.node',
    'native/mapmerge/mapmerge.c',
    ['-shared', '-fPIC', '-O2', '-s', '-Wall', '-pthread', '-I/usr/include/node'],
  ],
  ['umlkit-jail', 'native/jail/jail.c', ['-static', '-O2', '-s', '-Wall']],
  [
    'switchpath.node',
    'native/switchpath/switchpath.c',
    ['-shared', '-fPIC', '-O2', '-s', '-Wall', '-pthread', '-I/usr/include/node'],
  ],
];
for (const [name, source, args] of NATIVE) buildNative(name, join(root, source), args);

execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);

// The initramfs: our agent as /init plus the mount points it needs. Rebuilt from the agent each time
// (it takes milliseconds) with the project's own cpio writer.
const { encodeCpio } = await import(join(root, 'dist/core/cpio.js'));
const cpio = encodeCpio([
  { path: 'dev', mode: 0o040755 },
  { path: 'dev/console', mode: 0o020600, rdevMajor: 5, rdevMinor: 1 },
  { path: 'proc', mode: 0o040755 },
  { path: 'sys', mode: 0o040755 },
  { path: 'newroot', mode: 0o040755 },
  { path: 'init', mode: 0o100755, data: readFileSync(join(out, 'umlkit-agent')) },
]);
writeFileSync(join(out, 'initramfs.cpio.tmp'), cpio);
renameSync(join(out, 'initramfs.cpio.tmp'), join(out, 'initramfs.cpio'));
