// Bundles the four functions (functions/main.ts and everything it imports) with esbuild into one
// directory of ES modules: `node <outdir>/main.mjs` is the image's entry point. The one definition
// of the bundle: the Containerfile's build stage runs this file, the tests and the benchmarks call
// bundle() to get the same output.
//
// Code splitting keeps the per-function modules (loaded by main.ts with a dynamic import) in
// chunks of their own, so a function parses its own code and the shared chunks, not the others'.
// Not minified: a stack trace from production must still name the functions it went through, and
// minifying saved no start-up time worth that (docs/performance.md).
//
// Usage: node scripts/bundle.ts [OUTDIR]   (default dist/bundle)
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const BUNDLE_OPTIONS: BuildOptions = {
  entryPoints: { main: join(root, 'functions/main.ts') },
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  // CommonJS dependencies (prom-client, pino's helpers, …) call require() for Node built-ins; an
  // ES module has none, so every output file gets one.
  banner: {
    js: "import { createRequire as __kuikCreateRequire } from 'node:module'; const require = __kuikCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: true,
};

export async function bundle(outdir: string): Promise<{ files: string[] }> {
  await rm(outdir, { recursive: true, force: true });
  const r = await build({ ...BUNDLE_OPTIONS, outdir });
  if (r.warnings.length > 0) throw new Error(`esbuild warnings: ${r.warnings.map((w) => w.text).join('; ')}`);
  return { files: Object.keys(r.metafile?.outputs ?? {}) };
}

if (import.meta.main) {
  const outdir = resolve(process.argv[2] ?? join(root, 'dist/bundle'));
  const { files } = await bundle(outdir);
  console.log(`bundled ${files.length} files into ${outdir}`);
}
