// Runs one of our functions as its own process (`node functions/main.ts`), the way a container
// would, against the harness: KUBECONFIG, the harness CA trusted for registries, a config file.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { harness } from './env.ts';
import { uniq } from './fixtures.ts';
import { freePort, type Proc, startProc, stopProc, waitFor } from './proc.ts';

export interface RunningFunction {
  proc: Proc;
  /** HTTP port: trigger endpoint (reconcile, monitor, copy), /metrics, /healthz, /readyz. */
  port: number;
  /** HTTPS admission port (router only). */
  webhookPort?: number;
  stop(): Promise<void>;
  /** The same process again, same ports and environment. */
  restart(): Promise<void>;
}

/**
 * The environment a function's container gets, pointed at the harness: its config file, the
 * harness's kubeconfig and CA, its HTTP port, and for the router the admission port and its
 * serving certificate.
 */
export function functionEnv(
  name: 'router' | 'reconcile' | 'monitor' | 'copy',
  o: { config: string; port?: number; webhookPort?: number; logLevel?: string },
): Record<string, string> {
  const h = harness();
  return {
    KUIK_FUNCTION: name,
    KUIK_CONFIG: o.config,
    KUBECONFIG: h.kubeconfig,
    // Registries here are signed by the harness CA, as a private registry's would be.
    NODE_EXTRA_CA_CERTS: h.pki.caCert,
    ...(o.port === undefined ? {} : { PORT: String(o.port) }),
    LOG_LEVEL: o.logLevel ?? process.env['LOG_LEVEL'] ?? 'info',
    // A router stopped by a test or the local stack exits at once, without waiting for one more
    // scrape of its pushed counts (pushed-metrics.ts serveLastScrape); the test of that wait sets it.
    ...(name === 'router' ? { KUIK_METRICS_LAST_SCRAPE_WAIT_MS: '0' } : {}),
    ...(o.webhookPort === undefined
      ? {}
      : {
          WEBHOOK_PORT: String(o.webhookPort),
          TLS_CERT_FILE: h.pki.webhookCert,
          TLS_KEY_FILE: h.pki.webhookKey,
        }),
  };
}

export async function startFunction(
  name: 'router' | 'reconcile' | 'monitor' | 'copy',
  opts: {
    config?: string;
    env?: Record<string, string>;
    /**
     * The entry point to run: the sources by default, or a bundle (scripts/bundle.ts). The whole
     * suite runs against the bundle with KUIK_FUNCTION_ENTRY=dist/bundle/main.mjs.
     */
    entry?: string;
    /**
     * A command the process is started through (`['unshare', '-m', ...]`), which must end by
     * exec'ing its arguments so the PID stays the function's (tests read /proc/PID).
     */
    wrap?: string[];
  } = {},
): Promise<RunningFunction> {
  const h = harness();
  const id = uniq(name);
  const configFile = join(h.runDir, `${id}-config.yaml`);
  await writeFile(configFile, opts.config ?? '{}\n');
  const port = await freePort();
  const webhookPort = name === 'router' ? await freePort() : undefined;
  const env: Record<string, string> = {
    ...functionEnv(name, { config: configFile, port, ...(webhookPort ? { webhookPort } : {}) }),
    ...opts.env,
  };
  const launch = async () => {
    const entry = opts.entry ?? process.env['KUIK_FUNCTION_ENTRY'] ?? 'functions/main.ts';
    const argv = [...(opts.wrap ?? []), process.execPath, resolve(h.repoRoot, entry)];
    const proc = startProc(h.runDir, id, argv[0]!, argv.slice(1), env);
    await waitFor(`${name} /readyz`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      proc,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    return proc;
  };
  const f: RunningFunction = {
    proc: await launch(),
    port,
    ...(webhookPort ? { webhookPort } : {}),
    stop: () => stopProc(f.proc),
    restart: async () => {
      await stopProc(f.proc);
      f.proc = await launch();
    },
  };
  return f;
}

/**
 * The copy function as a JobSink's Job would run it: `event` (the file's content: the JobSink
 * stores the CloudEvent in structured mode) mounted at K_EVENT_PATH, batch mode, an empty config.
 * The process runs to its exit code (`proc.exited`).
 */
export async function startCopyJob(event: string, env: Record<string, string> = {}): Promise<Proc> {
  const h = harness();
  const dir = await mkdtemp(join(h.runDir, 'jobsink-event-'));
  await writeFile(join(dir, 'event'), event);
  await writeFile(join(dir, 'config.yaml'), '{}\n');
  return startProc(h.runDir, uniq('copy-job'), process.execPath, [join(h.repoRoot, 'functions/main.ts')], {
    ...functionEnv('copy', { config: join(dir, 'config.yaml'), logLevel: 'info' }),
    K_EVENT_PATH: dir,
    K_EXECUTION_MODE: 'batch',
    ...env,
  });
}
