#!/usr/bin/env node
// Fails when an import crosses a layer boundary (docs/architecture.md): the pure core imports nothing
// but itself; host wrappers only the core; lifecycle code never the CLI.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
// layer → layers it may import (besides itself)
const allowed = {
  core: [],
  host: ['core'],
  mconsole: ['core', 'host'],
  machine: ['core', 'host', 'mconsole'],
  cli: ['core', 'host', 'mconsole', 'machine'],
  '.': ['core', 'host', 'mconsole', 'machine'],
};

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) yield p;
  }
}

const layerOf = (file) => {
  const top = relative(src, file).split('/')[0];
  return top.endsWith('.ts') ? '.' : top;
};

const problems = [];
for (const file of files(src)) {
  const layer = layerOf(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(
    /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = m[1] ?? m[2];
    const where = relative(join(src, '..'), file);
    if (!spec.startsWith('.')) {
      if (layer === 'core') problems.push(`${where}: the pure core imports ${spec}`);
      continue;
    }
    const target = layerOf(resolve(dirname(file), spec));
    if (target !== layer && !(allowed[layer] ?? []).includes(target))
      problems.push(`${where}: layer ${layer} imports ${spec} (layer ${target})`);
  }
}
if (problems.length > 0) {
  console.error(`layer check: ${problems.length} forbidden import(s)\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('layer check: ok');
