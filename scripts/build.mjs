#!/usr/bin/env node
// Builds everything `npm ci` needs: the TypeScript (dist/), the static guest agent, its initramfs and the
// XSAVE ptrace shim. Each C piece is rebuilt only when its source is newer than its output.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'native');
mkdirSync(out, { recursive: true });

const stale = (target, ...sources) =>
  !existsSync(target) || sources.some((s) => statSync(s).mtimeMs > statSync(target).mtimeMs);

function cc(target, sources, args) {
  if (!stale(target, ...sources)) return;
  try {
    execFileSync('gcc', [...args, '-o', `${target}.tmp`, ...sources], { stdio: 'inherit' });
  } catch {
    console.error(
      `error[TOOL_MISSING]: could not compile ${sources.join(' ')}\nhint: install a C toolchain: sudo apt-get install gcc libc6-dev`,
    );
    process.exit(1);
  }
  renameSync(`${target}.tmp`, target);
}

cc(join(out, 'umlkit-agent'), [join(root, 'native/agent/agent.c')], ['-static', '-O2', '-s', '-Wall']);
cc(
  join(out, 'fpfix.so'),
  [join(root, 'native/fpfix/fpfix.c')],
  ['-shared', '-fPIC', '-O2', '-s', '-Wall', '-ldl'],
);
cc(
  join(out, 'udg.node'),
  [join(root, 'native/udg/udg.c')],
  ['-shared', '-fPIC', '-O2', '-s', '-Wall', '-I/usr/include/node'],
);

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
