// The mirroring pipeline as a cluster runs it, on the harness: the copy function and reconcile as
// processes (reconcile's COPY_SINK is the copy function), fed by Knative's ApiServerSource adapter
// watching mirror sets and pods in one namespace.
import { waitUntilReconcileReceives } from './fixtures.ts';
import { type RunningFunction, startFunction } from './functions.ts';
import { type Adapter, startApiServerSourceAdapter, WATCHED } from './knative.ts';

export interface MirroringPipeline {
  copy: RunningFunction;
  reconcile: RunningFunction;
  adapter: Adapter;
}

/** Starts the pipeline for `namespace` with `config`, and returns once reconcile receives events. */
export async function startMirroringPipeline(namespace: string, config?: string): Promise<MirroringPipeline> {
  const withConfig = config === undefined ? {} : { config };
  const copy = await startFunction('copy', withConfig);
  const reconcile = await startFunction('reconcile', {
    ...withConfig,
    env: { COPY_SINK: `http://127.0.0.1:${copy.port}/` },
  });
  const adapter = await startApiServerSourceAdapter({
    sink: `http://127.0.0.1:${reconcile.port}/`,
    namespaces: [namespace],
    resources: [WATCHED.imagesetmirrors, WATCHED.pods],
  });
  await waitUntilReconcileReceives(namespace);
  return { copy, reconcile, adapter };
}
