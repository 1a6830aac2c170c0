// The resync (reconcile's, on its own PingSource) at scale: N ImageSetMirrors (default 400) across
// 20 namespaces, on the harness's real kube-apiserver, each mirroring the image its namespace's pod
// runs into the harness's bearer-token registry, every mirror already in place. One steady-state
// resync is what every resync ping costs: per CR a read, a HEAD of each mirrored image
// (verifyMirrors) with the credential from its Secret, the cluster's claim checked, and no write
// (nothing changed).
//
// Measured: wall time and CRs/s of a whole resync, one CR at a time and four at a time (the
// resync's setting); then a resync given a 2 s deadline: how many CRs it reached, how long it
// overran the deadline (the CRs under way finish), and that the next ones start elsewhere.
//
// Run: node bench/resync.ts [--crs=400]   (starts and stops the harness itself; about a minute)
import { readFile } from 'node:fs/promises';
import { resolveConfig } from '#shared/config/config.ts';
import type { ImageSetMirror } from '#shared/crd/types.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { reconcileDeps } from '../functions/reconcile/main.ts';
import { reconcileAll } from '../functions/reconcile/server.ts';
import { kubeConfig } from '../tests/harness/env.ts';
import { apply, namespace, pod, registrySecret, seed, uniq } from '../tests/harness/fixtures.ts';
import { startEventSink } from '../tests/harness/knative.ts';
import { startHarness } from '../tests/harness/start.ts';
import { benchArgs, table } from './lib.ts';

const args = benchArgs();
const CRS = Number(args.get('crs') ?? 400);
const NAMESPACES = 20;

const h = await startHarness();
process.env['KUIK_HARNESS_STATE'] = h.stateFile;
const client = new RegistryClient({ defaultHost: { ca: await readFile(h.state.pki.caCert, 'utf8') } });
const sink = await startEventSink();
try {
  const { tls: upstream, token: mirror } = h.state.registries;
  const config = resolveConfig({});
  if (!config.ok) throw new Error(config.error.message);
  const deps = reconcileDeps(
    config.value.config,
    { COPY_SINK: sink.url },
    kubeConfig(),
    createLogger('bench', 'silent'),
    client,
  );
  const kube = new Kube(kubeConfig());

  // The image the pods run, and its mirror copy, already in place.
  const source = await seed(upstream, 'bench/resync', 'v1');
  await seed(mirror, 'mirror/bench/resync', 'v1');
  const namespaces: string[] = [];
  for (let i = 0; i < NAMESPACES; i++) {
    const ns = await namespace('resync');
    namespaces.push(ns);
    await registrySecret(ns, 'push', mirror);
    await pod(ns, [source.ref]);
  }
  const include = [{ image: `${upstream.host.replace(/\./g, '\\.')}/bench/resync:.*` }];
  const docs = Array.from({ length: CRS }, (_, i) => ({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ImageSetMirror',
    metadata: { name: uniq(`ism-${i}`), namespace: namespaces[i % NAMESPACES] },
    spec: {
      filter: { include },
      mirrors: [{ registry: mirror.host, path: 'mirror', credentialSecret: { name: 'push' } }],
    },
  }));
  await apply(...docs);

  // First resync: finalizers, status, copy requests. Then mark every mirror done, as copy would.
  await reconcileAll(deps, undefined, { concurrency: 4 });
  for (const d of docs) {
    await kube.updateStatus<ImageSetMirror>(
      { kind: 'ImageSetMirror', name: d.metadata.name, namespace: d.metadata.namespace },
      (o) => {
        for (const m of o.status?.matchingImages?.[0]?.mirrors ?? []) m.mirroredAt = new Date().toISOString();
        return true;
      },
    );
  }
  // One unmeasured pass: tokens cached, claims recorded.
  await reconcileAll(deps, undefined, { concurrency: 4 });

  const rows: (string | number)[][] = [];
  for (const concurrency of [1, 4, 8]) {
    const copiesBefore = sink.events.length;
    const t0 = performance.now();
    const s = await reconcileAll(deps, undefined, { concurrency });
    const wall = (performance.now() - t0) / 1000;
    const reached = s.mirrorSets.length;
    rows.push([
      `whole resync, ${concurrency} at a time`,
      reached,
      wall.toFixed(2),
      (reached / wall).toFixed(0),
      s.failed.length,
      sink.events.length - copiesBefore,
      '',
    ]);
  }
  for (const offset of [0, Math.floor(CRS / 2)]) {
    const t0 = Date.now();
    const stopAt = t0 + 2000;
    const s = await reconcileAll(deps, undefined, { concurrency: 4, stopAt, offset });
    const end = Date.now();
    rows.push([
      `deadline 2 s, start at ${offset}`,
      s.mirrorSets.length,
      ((end - t0) / 1000).toFixed(2),
      (s.mirrorSets.length / ((end - t0) / 1000)).toFixed(0),
      s.failed.length,
      0,
      `${end > stopAt ? `${end - stopAt} ms past the deadline` : 'all done before the deadline'}; first CR ${s.mirrorSets[0]?.ref.name.replace(/-[0-9a-f]{8}$/, '') ?? '-'}`,
    ]);
  }
  console.log(`\nResync of ${CRS} ImageSetMirrors (${NAMESPACES} namespaces), mirrors in place:\n`);
  console.log(
    table(['run', 'mirror sets reconciled', 'wall s', 'CRs/s', 'failed', 'copy requests', 'note'], rows),
  );
} finally {
  await sink.close();
  await client.close();
  await h.stop();
}
