#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli/main.js (built by `npm ci` / `npm run build`).
import module from 'node:module';
import { join } from 'node:path';

// UMLKIT_TRACE=1: timestamps of the run path on stderr (src/host/run-trace.ts), from Node's own start.
const trace = process.env.UMLKIT_TRACE === '1';
const mark = (step) =>
  trace && process.stderr.write(`umlkit-trace ${performance.now().toFixed(1)} ${step}\n`);
mark('node started');
// Node 22.1+ keeps the compiled code of our modules in umlkit's cache dir, so later starts skip compiling
// them; older Node has no such cache and loads as before. Best effort: a read-only cache only costs time.
if (typeof module.enableCompileCache === 'function' && process.env.NODE_DISABLE_COMPILE_CACHE === undefined) {
  try {
    const { resolvePaths } = await import('../dist/host/paths.js');
    module.enableCompileCache(join(resolvePaths(process.env).cacheDir, 'node-compile-cache'));
  } catch {}
}
const { main } = await import('../dist/cli/main.js');
mark('main loaded');

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});
if (trace) process.on('exit', () => mark('exit'));
