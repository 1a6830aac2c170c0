// What the fault suite's tests share: admission reviews sent straight to a router process's webhook
// port (what the apiserver would send, minus the apiserver's own latency, so a test stays seconds
// long), the router's resident memory read from /proc, and the memory limit of its manifest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parseAllDocuments } from 'yaml';
import { harness } from '../harness/env.ts';
import { admissionReview } from '../harness/webhook.ts';

/** VmRSS of a process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** Samples a process's RSS every 50 ms until stopped: the peak seen, and the last value. */
export function sampleRss(pid: number): { stop(): { peak: number; last: number } } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // The process is gone: the test's own assertions say so.
    }
  }, 50);
  // A failing test must not keep its process alive through the sampler.
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const last = rssMiB(pid);
      return { peak: Math.max(peak, last), last };
    },
  };
}

/** The router container's memory limit in manifests/router/deployment.yaml, in MiB. */
export function routerMemoryLimitMiB(): number {
  const text = readFileSync(join(harness().repoRoot, 'manifests/router/deployment.yaml'), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const d = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { resources?: { limits?: { memory?: string } } }[] } } };
    };
    if (d?.kind !== 'Deployment') continue;
    const limit = d.spec?.template?.spec?.containers?.[0]?.resources?.limits?.memory ?? '';
    const m = /^(\d+)Mi$/.exec(limit);
    if (m) return Number(m[1]);
  }
  throw new Error('no memory limit (NNNMi) found in manifests/router/deployment.yaml');
}

export interface ReviewAnswer {
  status: number;
  allowed: boolean;
  /** The JSON patch, decoded; [] when none. */
  patch: { op: string; path: string; value?: unknown }[];
}

/** A client for one router's webhook port (HTTPS, harness CA). */
export function webhookClient(port: number, connections = 8) {
  const agent = new Agent({
    connections,
    connect: { ca: readFileSync(harness().pki.caCert) },
    bodyTimeout: 60_000,
    headersTimeout: 60_000,
  });
  const send = async (body: string): Promise<ReviewAnswer> => {
    const res = await request(`https://127.0.0.1:${port}/mutate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      dispatcher: agent,
    });
    const text = await res.body.text();
    let allowed = false;
    let patch: ReviewAnswer['patch'] = [];
    try {
      const r = (JSON.parse(text) as { response?: { allowed?: boolean; patch?: string } }).response;
      allowed = r?.allowed === true;
      if (r?.patch) patch = JSON.parse(Buffer.from(r.patch, 'base64').toString());
    } catch {
      // Not an AdmissionReview: allowed stays false, the test says what it expected.
    }
    return { status: res.statusCode, allowed, patch };
  };
  return {
    send,
    /** Sends every body, `concurrency` at a time; answers in order. */
    async sendAll(bodies: readonly string[], concurrency = 8): Promise<ReviewAnswer[]> {
      const out: ReviewAnswer[] = new Array(bodies.length);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < bodies.length; i = next++) out[i] = await send(bodies[i]!);
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return out;
    },
    close: () => agent.close(),
  };
}

let uid = 0;

/** An AdmissionReview of a Pod CREATE (dry run: the router writes nothing for it). */
export function podReview(
  namespace: string,
  images: readonly string[],
  opts: { operation?: string; dryRun?: boolean } = {},
): string {
  const name = `p${++uid}`;
  return admissionReview({
    uid: `${process.pid}-${uid}`,
    ...(opts.operation ? { operation: opts.operation } : {}),
    namespace,
    name,
    dryRun: opts.dryRun ?? true,
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
    },
  });
}

/** The router's /metrics text. */
export async function scrape(metricsPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  return await res.text();
}

/** Series of one metric in a /metrics text (lines starting with the name and a `{`). */
export function series(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`));
}
