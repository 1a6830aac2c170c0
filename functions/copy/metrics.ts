// The copy function's metrics: per-invocation counters and a duration histogram (a function that
// scales to zero exports what it did, not cluster state). Labels: destination registry host and
// result, never an image reference.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProgressSnapshot } from './engine/progress.ts';
import type { HandleResult } from './handle.ts';

/** The gauges the copy pushes to the router with their current values (shared/metrics-push.ts). */
export const COPY_PUSHED_GAUGES = [
  'kube_image_keeper_copy_progress_done_bytes',
  'kube_image_keeper_copy_progress_size_bytes',
] as const;

export function createCopyMetrics(registry: Registry) {
  const copies = new Counter({
    name: 'kube_image_keeper_copies_total',
    help: 'Image copies by destination registry and result (mirrored, tolerated, already-mirrored, failed, interrupted, gone, stale).',
    labelNames: ['registry', 'result'],
    registers: [registry],
  });
  const events = new Counter({
    name: 'kube_image_keeper_copy_events_total',
    help: 'Copy CloudEvents received, by result (ok, joined: answered by the same copy already running, invalid, retry).',
    labelNames: ['result'],
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'kube_image_keeper_copy_bytes_total',
    help: 'Blob bytes by kind: uploaded (sent to the mirror), read (from the source), resumed (not sent again thanks to a resumed upload).',
    labelNames: ['registry', 'kind'],
    registers: [registry],
  });
  const blobs = new Counter({
    name: 'kube_image_keeper_copy_blobs_total',
    help: 'Blobs by outcome: uploaded, resumed, mounted (cross-repository), skipped (already there), foreign (not distributable).',
    labelNames: ['registry', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'kube_image_keeper_copy_duration_seconds',
    help: 'Time to handle one copy request, status writes included.',
    labelNames: ['result'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  // Copies in flight, read at scrape time: a series exists while its copy runs and is gone after
  // (so the `image` label, the destination reference, is bounded by the copies running at once).
  const inFlight = new Map<symbol, { registry: string; image: string; snapshot: () => ProgressSnapshot }>();
  const progressGauge = (name: string, help: string, pick: (p: ProgressSnapshot) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['registry', 'image'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of inFlight.values())
          this.set({ registry: c.registry, image: c.image }, pick(c.snapshot()));
      },
    });
  progressGauge(
    'kube_image_keeper_copy_progress_done_bytes',
    'Bytes of the image already at the mirror or sent to it, per copy in flight (image: destination reference).',
    (p) => p.bytesDone,
  );
  progressGauge(
    'kube_image_keeper_copy_progress_size_bytes',
    'Bytes of every blob of the image being copied, per copy in flight; done / size is the fraction copied.',
    (p) => p.bytesTotal,
  );
  return {
    events,
    /** Shows a copy in the progress gauges until the returned function is called. */
    track(registryHost: string, image: string, snapshot: () => ProgressSnapshot): () => void {
      const key = Symbol(image);
      inFlight.set(key, { registry: registryHost, image, snapshot });
      return () => inFlight.delete(key);
    },
    observe(r: HandleResult, registryHost: string): void {
      copies.inc({ registry: registryHost, result: r.outcome });
      duration.observe({ result: r.outcome }, r.durationMs / 1000);
      const res = r.result;
      if (!res) return;
      bytes.inc({ registry: registryHost, kind: 'uploaded' }, res.bytes.bytesUploaded);
      bytes.inc({ registry: registryHost, kind: 'read' }, res.bytes.bytesRead);
      bytes.inc({ registry: registryHost, kind: 'resumed' }, res.bytes.bytesResumed);
      for (const [outcome, n] of Object.entries(res.blobs)) {
        if (n > 0) blobs.inc({ registry: registryHost, outcome }, n);
      }
    },
  };
}

export type CopyMetrics = ReturnType<typeof createCopyMetrics>;
