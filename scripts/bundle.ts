// Bundles the four functions (functions/main.ts and everything it imports) with esbuild into one
// directory of ES modules: `node <outdir>/main.mjs` is the image's entry point. The one definition
// of the bundle: the Containerfile's build stage runs this file, the tests and the benchmarks call
// bundle() to get the same output.
//
// Code splitting keeps the per-function modules (loaded by main.ts with a dynamic import) in
// chunks of their own, so a function parses its own code and the shared chunks, not the others'.
// Whitespace and comments are minified, names are not: a stack trace from production must still
// name the functions it went through (it gives columns on line 1 instead of lines). Not for start-up
// time (the same either way) but for memory: V8 keeps each module's source text for as long as the
// process runs, and the shared chunk kept 7.3 MB of it — as a two-byte string (14.6 MiB) because a
// few of the dependencies' comments hold a non-ASCII character (a ’), which turns the whole text
// UTF-16. Without comments it is 4.1 MB of ASCII: 13 MiB less RSS in every function
// (docs/performance.md, "Where the memory goes").
//
// A V8 compile cache can ship with the bundle (--compile-cache DIR): every module compiled once at
// build time, so a cold start reads machine code instead of parsing 7 MB of JavaScript. Node looks
// it up by file path and content, so it is made where the bundle will run (/app in the image), and
// used when NODE_COMPILE_CACHE names the same directory (read-only is fine: Node only reads then).
// Node keeps one cache per user ID (…-<uid> subdirectories), so it is filled as the user that will
// run the functions (--uid; the image's is 65532).
//
// Usage: node scripts/bundle.ts [OUTDIR] [--compile-cache DIR [--uid UID]]   (default dist/bundle)
import { execFile } from 'node:child_process';
import { chown, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
  minifyWhitespace: true,
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

/**
 * Compiles every module of the bundle once with NODE_COMPILE_CACHE=cacheDir: the entry point (run
 * with no function selected, so it loads its static imports and exits at once), then every chunk
 * (imported, not run: the functions' modules only define their start()).
 */
export async function fillCompileCache(
  outdir: string,
  cacheDir: string,
  uid = process.getuid?.(),
): Promise<void> {
  const run = promisify(execFile);
  await mkdir(cacheDir, { recursive: true });
  const as = uid === undefined || uid === process.getuid?.() ? {} : { uid, gid: uid };
  if ('uid' in as) await chown(cacheDir, uid!, uid!);
  const env = { ...process.env, NODE_COMPILE_CACHE: cacheDir, KUIK_FUNCTION: 'none' };
  const opts = { env, ...as };
  await run(process.execPath, [join(outdir, 'main.mjs')], opts).catch((err: { code?: number }) => {
    // Exit 2 is the entry point refusing the unset function, after its imports: what we want.
    if (err.code !== 2) throw err;
  });
  const chunks = (await readdir(join(outdir, 'chunks'))).map((f) => join(outdir, 'chunks', f));
  const importAll = `for (const f of ${JSON.stringify(chunks)}) await import(f);`;
  await run(process.execPath, ['--input-type=module', '-e', importAll], opts);
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const cacheAt = args.indexOf('--compile-cache');
  const cacheDir = cacheAt >= 0 ? args.splice(cacheAt, 2)[1] : undefined;
  const uidAt = args.indexOf('--uid');
  const uid = uidAt >= 0 ? Number(args.splice(uidAt, 2)[1]) : undefined;
  const outdir = resolve(args[0] ?? join(root, 'dist/bundle'));
  const { files } = await bundle(outdir);
  console.log(`bundled ${files.length} files into ${outdir}`);
  if (cacheDir) {
    await fillCompileCache(outdir, resolve(cacheDir), uid);
    console.log(`compile cache in ${resolve(cacheDir)}`);
  }
}
