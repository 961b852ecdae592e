// The pure parts of building a UML kernel: what identifies a build (its cache key), what a finished build
// records (kernel.json), how make's output becomes progress, and what the console says about lpj and seccomp.

export type KernelProfile = 'fast' | 'full' | 'debug';
export const KERNEL_PROFILES: readonly KernelProfile[] = ['fast', 'full', 'debug'];

/** Where a build's source came from. */
export type KernelOrigin =
  | { readonly kind: 'debian'; readonly package: string; readonly version: string; readonly suite: string }
  | { readonly kind: 'tree'; readonly path: string; readonly git?: string };

/** A file that went into a build: its name for people, its hash for the key. */
export interface HashedInput {
  readonly name: string;
  readonly sha256: string;
}

export interface BuildKeyInput {
  readonly origin: KernelOrigin;
  /** `make kernelversion` of the tree. */
  readonly kernelVersion: string;
  readonly profile: KernelProfile;
  /** The profile's own fragment, then the user's, in order. */
  readonly fragments: readonly HashedInput[];
  readonly patches: readonly HashedInput[];
}

/** Bump when the way umlkit builds changes the output for the same inputs. */
export const BUILD_RECIPE = 1;

/**
 * The text whose hash is the cache key. A user's tree is identified by its path (its contents change under
 * the same key: that build is redone incrementally each time); a Debian source by package and version.
 */
export function buildKeyMaterial(input: BuildKeyInput): string {
  const origin =
    input.origin.kind === 'debian'
      ? { kind: 'debian', package: input.origin.package, version: input.origin.version }
      : { kind: 'tree', path: input.origin.path };
  return JSON.stringify({
    recipe: BUILD_RECIPE,
    arch: 'um',
    origin,
    kernelVersion: input.kernelVersion,
    profile: input.profile,
    fragments: input.fragments.map((f) => f.sha256),
    patches: input.patches.map((p) => p.sha256),
  });
}

/** `6.1.192-fast-1a2b3c4d`: readable, and unique per key. */
export function buildName(kernelVersion: string, profile: KernelProfile, keyHex: string): string {
  return `${kernelVersion.replace(/[^A-Za-z0-9.+-]/g, '_')}-${profile}-${keyHex.slice(0, 8)}`;
}

/** What kernel.json records about a finished build (version 1). */
export interface KernelManifest {
  readonly version: 1;
  readonly name: string;
  readonly key: string;
  readonly kernelVersion: string;
  readonly origin: KernelOrigin;
  readonly profile: KernelProfile;
  readonly fragments: readonly HashedInput[];
  readonly patches: readonly HashedInput[];
  readonly builtAt: string;
  readonly buildSeconds: number;
  readonly jobs: number;
  readonly compiler: string;
  /** Options kconfig did not honour (wanted or optional ones; a required one fails the build). */
  readonly configWarnings: readonly string[];
  readonly summary: Readonly<Record<string, string>>;
}

export function isKernelManifest(v: unknown): v is KernelManifest {
  const m = v as Partial<KernelManifest> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.version === 1 &&
    typeof m.name === 'string' &&
    typeof m.kernelVersion === 'string' &&
    typeof m.profile === 'string' &&
    typeof m.origin === 'object'
  );
}

// kbuild's quiet output: two spaces, a tag of capitals (CC, LD, AR, HOSTCC, GEN, ...), the target.
const STEP = /^ {2}([A-Z][A-Z0-9_]{0,9})\s+\S/;

/** Whether a line of make's output is one build step (what the progress bar counts). */
export const isBuildStep = (line: string): boolean => STEP.test(line);

/** Steps a first build of this profile takes, before any build has been counted (measured on 6.1 and 7.2). */
export function expectedSteps(profile: KernelProfile, previous: number | undefined): number {
  if (previous && previous > 0) return previous;
  return profile === 'fast' ? 1100 : 1700;
}

/** The lines of a failed build's log worth showing: compiler and make errors, the last `count` of them. */
export function buildErrorLines(log: string, count = 12): string[] {
  const lines = log.split('\n');
  const hits = lines.filter((l) => /\berror\b|\*\*\*|undefined reference|fatal:|No rule to make/i.test(l));
  return (hits.length > 0 ? hits : lines.filter((l) => l.trim() !== '')).slice(-count);
}

/**
 * The loops-per-jiffy the kernel measured or was given, from its boot log: `Calibrating delay loop...
 * 5000.00 BogoMIPS (lpj=25000000)` or `... (skipped) preset value.. ... (lpj=...)`.
 */
export function parseLpj(log: string): number | undefined {
  const m = /Calibrating delay loop.*\(lpj=(\d+)\)/.exec(log);
  const n = m ? Number(m[1]) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
