// Start-up benchmark: process start → first 200 from /readyz, for each function, run three ways:
//   source          node functions/main.ts (Node strips the TypeScript types at load)
//   bundle          node main.mjs from scripts/bundle.ts (esbuild, code splitting)
//   bundle + cache  the same with NODE_COMPILE_CACHE filled beforehand: what the image ships
// The router is ready once its watch caches have listed the five kinds from the harness's
// kube-apiserver; the others once they listen. Each variant: one discarded run (page cache), then
// RUNS measured, one process at a time. Also the resident memory at ready.
// Run: node bench/start.ts [RUNS]   (starts and stops the harness itself)
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundle, fillCompileCache } from '../scripts/bundle.ts';
import { harness } from '../tests/harness/env.ts';
import { freePort, startProc, stopProc, waitFor } from '../tests/harness/proc.ts';
import { startHarness } from '../tests/harness/start.ts';
import { memoryOf, percentile, table } from './lib.ts';

const RUNS = Number(process.argv[2] ?? 7);
const h0 = await startHarness();
process.env['KUIK_HARNESS_STATE'] = h0.stateFile;
const h = harness();

try {
  const dir = await mkdtemp(join(h.runDir, 'start-bench-'));
  const out = join(dir, 'bundle');
  const { files } = await bundle(out);
  const cache = join(dir, 'compile-cache');
  await fillCompileCache(out, cache);
  const config = join(dir, 'config.yaml');
  await writeFile(config, '{}\n');

  const variants: { name: string; entry: string; env: Record<string, string> }[] = [
    { name: 'source (node functions/main.ts)', entry: join(h.repoRoot, 'functions/main.ts'), env: {} },
    { name: 'bundle', entry: join(out, 'main.mjs'), env: {} },
    {
      name: 'bundle + compile cache (image)',
      entry: join(out, 'main.mjs'),
      env: { NODE_COMPILE_CACHE: cache },
    },
  ];
  const functions = ['router', 'reconcile', 'monitor', 'copy'] as const;

  const once = async (fn: (typeof functions)[number], entry: string, extra: Record<string, string>) => {
    const port = await freePort();
    const env: Record<string, string> = {
      KUIK_FUNCTION: fn,
      KUIK_CONFIG: config,
      KUBECONFIG: h.kubeconfig,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      COPY_SINK: 'http://127.0.0.1:9/',
      ...(fn === 'router'
        ? {
            WEBHOOK_PORT: String(await freePort()),
            TLS_CERT_FILE: h.pki.webhookCert,
            TLS_KEY_FILE: h.pki.webhookKey,
          }
        : {}),
      ...extra,
    };
    const t0 = performance.now();
    const proc = startProc(h.runDir, `start-${fn}`, process.execPath, [entry], env);
    await waitFor(`${fn} /readyz`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      proc,
      intervalMs: 2,
      timeoutMs: 30_000,
    });
    const ms = performance.now() - t0;
    const mem = memoryOf(proc.child.pid!);
    await stopProc(proc);
    return { ms, rss: mem.rssMiB };
  };

  const rows: (string | number)[][] = [];
  for (const fn of functions) {
    for (const v of variants) {
      await once(fn, v.entry, v.env);
      const ms: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await once(fn, v.entry, v.env);
        ms.push(r.ms);
        rss.push(r.rss);
      }
      ms.sort((a, b) => a - b);
      rss.sort((a, b) => a - b);
      rows.push([fn, v.name, ms[0]!, percentile(ms, 50), ms.at(-1)!, percentile(rss, 50)]);
    }
  }
  const load = execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ');
  console.log(
    `\nProcess start → /readyz, ${RUNS} runs each after one discarded (bundle: ${files.length} files; load average ${load})\n`,
  );
  console.log(table(['function', 'how it runs', 'min ms', 'median ms', 'max ms', 'RSS at ready MiB'], rows));
  console.log('\nCommand: node bench/start.ts');
} finally {
  await h0.stop();
}
