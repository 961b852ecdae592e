// Finds and loads our N-API addons (native/*, built into dist/native): from dist/host (the built CLI) and
// from src/host (tests running the TypeScript sources) alike, both land on the repository's dist/native.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where addon `file` (e.g. `udg.node`) may be, in the order looked at. */
export function nativeAddonPaths(file: string): string[] {
  return [`../native/${file}`, `../../dist/native/${file}`].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
}

/** The addon's exports, or undefined when it is not built. */
export function loadNativeAddon<T>(file: string): T | undefined {
  const path = nativeAddonPaths(file).find((p) => existsSync(p));
  return path ? (createRequire(import.meta.url)(path) as T) : undefined;
}
