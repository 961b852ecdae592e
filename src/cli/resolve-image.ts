// `--image NAME|PATH` → an image file, building the named default image on first use with progress.
import { quote, UmlError } from '../core/errors.ts';
import {
  buildImage,
  findImage,
  imageArgIsPath,
  KNOWN_IMAGES,
  resolveImagePath,
} from '../host/image/images.ts';
import type { HostPaths } from '../host/paths.ts';
import type { CliContext } from './command.ts';
import { interruptible } from './interruptible.ts';
import { createProgress } from './progress.ts';

export async function resolveImage(
  arg: string | undefined,
  paths: HostPaths,
  ctx: CliContext,
): Promise<string> {
  const name = arg ?? 'busybox';
  if (imageArgIsPath(name)) return resolveImagePath(name, ctx.cwd);
  const cached = findImage(paths, name);
  if (cached) return cached.path;
  if (!(KNOWN_IMAGES as readonly string[]).includes(name)) {
    throw new UmlError('IMAGE_NOT_FOUND', `no image called ${quote(name)}`, {
      hint: `cached images: \`umlkit image ls\`; buildable: ${KNOWN_IMAGES.join(', ')}; or give a path to an ext4 image`,
    });
  }
  const progress = createProgress(ctx.stderr, `building image ${name}`);
  // Ctrl-C during a first-use build stops it cleanly (no staging tree or temporary image is left).
  const record = await interruptible((signal) =>
    buildImage(name, paths, ctx.env, (step, f) => progress.update(step, f), false, signal),
  );
  progress.done(`built ${record.path}`);
  return record.path;
}
