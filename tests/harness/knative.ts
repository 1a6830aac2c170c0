// Knative Eventing's own adapters, run out of cluster against the harness's kube-apiserver:
// `apiserver_receive_adapter` (what an ApiServerSource runs) and
// `mtping` (what PingSources run). In a cluster, eventing-controller fills their environment and
// the PingSource status; here the harness does it.
//
// Both adapters bind a probes server on the hard-coded :8080 and ignore a failure to bind it, so
// several can run side by side; profiling gets a free port each.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { HTTP } from 'cloudevents';
import type { Incoming } from '#shared/cloudevents.ts';
import { harness } from './env.ts';
import { uniq } from './fixtures.ts';
import { freePort, listenLocal, type Proc, startProc, stopProc } from './proc.ts';

/** An event as shared/cloudevents.ts parses it, with the request's headers (auth, tracing). */
export interface ReceivedEvent extends Incoming {
  headers: IncomingHttpHeaders;
}

export interface EventSink {
  url: string;
  events: ReceivedEvent[];
  /** Resolves with the first event (already received or still to come) that satisfies `pred`. */
  waitFor(pred: (e: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  close(): Promise<void>;
}

/** A CloudEvents receiver on loopback (binary and structured mode, via the cloudevents SDK). */
export async function startEventSink(): Promise<EventSink> {
  const events: ReceivedEvent[] = [];
  const waiters: { pred: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const ce = HTTP.toEvent({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        for (const e of Array.isArray(ce) ? ce : [ce]) {
          const { id, type, source, subject, data, ...rest } = {
            ...(e as object),
          } as Record<string, unknown>;
          const ev: ReceivedEvent = {
            id: String(id),
            type: String(type),
            source: String(source),
            ...(subject === undefined ? {} : { subject: String(subject) }),
            data,
            extensions: rest,
            headers: req.headers,
          };
          events.push(ev);
          for (const w of [...waiters]) {
            if (w.pred(ev)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(ev);
            }
          }
        }
        res.statusCode = 202;
      } catch {
        res.statusCode = 400;
      }
      res.end();
    });
  });
  const port = await listenLocal(server, 'event sink');
  return {
    url: `http://127.0.0.1:${port}/`,
    events,
    waitFor: (pred, timeoutMs = 30_000) => {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`no matching CloudEvent within ${timeoutMs} ms (received ${events.length})`));
          }
        }, timeoutMs).unref();
      });
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface GVR {
  group: string;
  version: string;
  resource: string;
}

/** The resources an ApiServerSource for reconcile watches (manifests/reconcile/source.yaml). */
export const WATCHED = {
  imagesetmirrors: { group: 'kuik.enix.io', version: 'v1alpha1', resource: 'imagesetmirrors' },
  clusterimagesetmirrors: { group: 'kuik.enix.io', version: 'v1alpha1', resource: 'clusterimagesetmirrors' },
  clusterreplicatedimagesets: {
    group: 'kuik.enix.io',
    version: 'v1alpha1',
    resource: 'clusterreplicatedimagesets',
  },
  replicatedimagesets: { group: 'kuik.enix.io', version: 'v1alpha1', resource: 'replicatedimagesets' },
  clusterimagesetavailabilities: {
    group: 'kuik.enix.io',
    version: 'v1alpha1',
    resource: 'clusterimagesetavailabilities',
  },
  pods: { group: '', version: 'v1', resource: 'pods' },
} as const satisfies Record<string, GVR>;

/** What manifests/reconcile/source.yaml's ApiServerSource watches: the four set kinds and pods. */
export const RECONCILE_SOURCE = [
  WATCHED.imagesetmirrors,
  WATCHED.clusterimagesetmirrors,
  WATCHED.clusterreplicatedimagesets,
  WATCHED.replicatedimagesets,
  WATCHED.pods,
];

export interface Adapter {
  proc: Proc;
  stop(): Promise<void>;
}

/**
 * Runs Knative's ApiServerSource receive adapter: it watches `resources` in `namespaces` (or all)
 * and sends one CloudEvent per add/update/delete to `sink` (Resource mode: the object is the data).
 */
export async function startApiServerSourceAdapter(opts: {
  sink: string;
  resources: GVR[];
  namespaces?: string[];
  mode?: 'Resource' | 'Reference';
  name?: string;
  /** Whose identity the adapter watches with (an ApiServerSource's serviceAccountName); default admin. */
  kubeconfig?: string;
}): Promise<Adapter> {
  const h = harness();
  const name = opts.name ?? uniq('apiserversource');
  const sourceConfig = {
    namespaces: opts.namespaces ?? [],
    allNamespaces: opts.namespaces === undefined,
    resources: opts.resources.map((r) => ({
      gvr: { Group: r.group, Version: r.version, Resource: r.resource },
    })),
    mode: opts.mode ?? 'Resource',
  };
  const proc = startProc(h.runDir, name, h.bins.apiserverReceiveAdapter, [], {
    KUBECONFIG: opts.kubeconfig ?? h.kubeconfig,
    SYSTEM_NAMESPACE: 'knative-eventing',
    NAMESPACE: opts.namespaces?.[0] ?? 'default',
    NAME: name,
    K_SINK: opts.sink,
    K_SOURCE_CONFIG: JSON.stringify(sourceConfig),
    PROFILING_PORT: String(await freePort()),
  });
  return { proc, stop: () => stopProc(proc) };
}

/**
 * Runs Knative's multi-tenant PingSource adapter. It schedules every PingSource whose status is
 * Ready and sends to `status.sinkUri`; without eventing-controller, `readyPingSource` sets those.
 */
export async function startPingAdapter(name = uniq('mtping')): Promise<Adapter> {
  const h = harness();
  const proc = startProc(h.runDir, name, h.bins.mtping, ['--disable-ha'], {
    KUBECONFIG: h.kubeconfig,
    SYSTEM_NAMESPACE: 'knative-eventing',
    NAMESPACE: 'knative-eventing',
    // SIGTERM otherwise waits for the next minute boundary before exiting.
    K_NO_SHUTDOWN_AFTER: '59',
    PROFILING_PORT: String(await freePort()),
  });
  // A test adapter has nothing to drain: do not wait out its graceful shutdown.
  return { proc, stop: () => stopProc(proc, 500) };
}

/** The status eventing-controller would write on a PingSource, pointing it at `sinkUri`. */
export function readyPingSourceStatus(sinkUri: string): Record<string, unknown> {
  const now = new Date().toISOString();
  const ok = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  return {
    status: {
      sinkUri,
      observedGeneration: 1,
      conditions: [ok('Ready'), ok('SinkProvided'), ok('Deployed'), ok('OIDCIdentityCreated')],
    },
  };
}
