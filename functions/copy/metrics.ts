// The copy function's metrics: per-invocation counters and a duration histogram (a function that
// scales to zero exports what it did, not cluster state). Labels: destination registry host and
// result, never an image reference.
import { Gauge, type Registry } from 'prom-client';
import { counter, COPY_FAMILIES as F, type GaugeFamily, histogram } from '#shared/metrics/families.ts';
import type { ProgressSnapshot } from './engine/progress.ts';
import type { HandleResult } from './handle.ts';

export function createCopyMetrics(registry: Registry) {
  const copies = counter(F.copies, registry);
  const events = counter(F.events, registry);
  const bytes = counter(F.bytes, registry);
  const blobs = counter(F.blobs, registry);
  const duration = histogram(F.duration, registry);
  // Copies in flight, read at scrape time: a series exists while its copy runs and is gone after
  // (so the `image` label, the destination reference, is bounded by the copies running at once).
  const inFlight = new Map<symbol, { registry: string; image: string; snapshot: () => ProgressSnapshot }>();
  const progressGauge = (f: GaugeFamily, pick: (p: ProgressSnapshot) => number) =>
    new Gauge({
      name: f.name,
      help: f.help,
      labelNames: f.labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of inFlight.values())
          this.set({ registry: c.registry, image: c.image }, pick(c.snapshot()));
      },
    });
  progressGauge(F.progressDone, (p) => p.bytesDone);
  progressGauge(F.progressSize, (p) => p.bytesTotal);
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
