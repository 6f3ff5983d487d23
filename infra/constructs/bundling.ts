/**
 * How handlers become Lambda bundles: one ESM file per function, built by the project's own
 * esbuild (no Docker), with the same esbuild settings in both modes.
 *
 * - `release` (what `cdk synth`/`deploy` ship): NodejsFunction bundles each function on its own,
 *   minified, with source maps.
 * - `fast` (template tests, `cdk synth -c bundling=fast`): one esbuild pass over every handler of
 *   the stack, without minification or source maps. Still a real bundle of every handler, so a
 *   broken import fails, but ~5x quicker than one esbuild process per function on a 2-core machine.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, type BuildResult, buildSync } from 'esbuild';
import { pascal } from './naming.ts';

export type BundlingMode = 'release' | 'fast';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FUNCTIONS_DIR = join(REPO_ROOT, 'functions');

export const NODE_TARGET = 'node22';
export const MAIN_FIELDS = ['module', 'main'];
/**
 * esbuild's ESM output cannot `require()`; a few dependencies (CommonJS inside the AWS SDK and the
 * Encryption SDK) still do, so every bundle starts by defining a real `require`.
 */
export const REQUIRE_BANNER =
  "import { createRequire as __platformCreateRequire } from 'node:module'; const require = __platformCreateRequire(import.meta.url);";

export function entryOf(handlerModule: string): string {
  return join(FUNCTIONS_DIR, `${handlerModule}.ts`);
}

/** Where `prebundle` put a handler's `index.mjs`. */
export function prebundledDir(outdir: string, handlerModule: string): string {
  return join(outdir, pascal(handlerModule));
}

/** Handlers bundled by this process, per output directory (stacks of one App share bundles). */
const bundledIn = new Map<string, Set<string>>();

/**
 * Bundles every handler in one esbuild pass into `<outdir>/<Handler>/index.mjs`, skipping those
 * this process already bundled there.
 */
export function prebundle(handlerModules: readonly string[], outdir: string): void {
  const done = bundledIn.get(outdir) ?? new Set<string>();
  bundledIn.set(outdir, done);
  const missing = [...new Set(handlerModules)].filter((module) => !done.has(module));
  if (missing.length === 0) return;
  mkdirSync(outdir, { recursive: true });
  buildSync(esmBundleOptions(Object.fromEntries(missing.map((module) => [`${pascal(module)}/index`, entryOf(module)])), outdir));
  for (const module of missing) done.add(module);
}

/**
 * The esbuild settings of a `release` bundle outside CDK (the cold-start bench, the bundle-budget
 * test): what NodejsFunction runs with the release bundling of platform-function.ts (ESM, the
 * `require` banner, the AWS SDK bundled, minified, external source maps without sources).
 */
export function releaseBuildOptions(entryPoints: Record<string, string>, outdir: string): BuildOptions {
  return { ...esmBundleOptions(entryPoints, outdir), minify: true, sourcemap: true, sourcesContent: false, metafile: true };
}

/** What every bundle of a handler shares: one ESM file per entry for Node, with the `require` banner. */
function esmBundleOptions(entryPoints: Record<string, string>, outdir: string): BuildOptions {
  return {
    entryPoints,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'esm',
    mainFields: MAIN_FIELDS,
    banner: { js: REQUIRE_BANNER },
    logLevel: 'error',
  };
}

/** Release bundles of `entryPoints` (`<name>/index` -> source file) in one esbuild pass (no code splitting: each bundle stands alone). */
export function releaseBundles(entryPoints: Record<string, string>, outdir: string): BuildResult<{ metafile: true }> {
  mkdirSync(outdir, { recursive: true });
  return buildSync(releaseBuildOptions(entryPoints, outdir)) as BuildResult<{ metafile: true }>;
}
