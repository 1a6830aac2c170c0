// What the router logs about each admission review. At `info`: a line per decision that changed
// something (a reroute) and per failure or note, repeats of the same line sampled (log-sampler.ts:
// the first is logged, the rest counted and reported once a minute). At `debug`: every decision of
// every review. The decisions themselves are in the pod's annotations and `kuik explain`, and the
// counts in the metrics: the log is for what an operator needs to notice.
import type { Logger } from '#shared/log.ts';
import type { Handled } from './handle.ts';
import { operationLabel } from './labels.ts';
import { LogSampler } from './log-sampler.ts';

export interface ReviewLog {
  review(h: Handled, seconds: number): void;
  stop(): void;
}

export function reviewLog(log: Logger, opts: { windowMs?: number; maxKeys?: number } = {}): ReviewLog {
  const windowMs = opts.windowMs ?? 60_000;
  const sampler = new LogSampler({ windowMs, ...(opts.maxKeys ? { maxKeys: opts.maxKeys } : {}) });
  // A key names the line's kind; the message and what identifies it come back from it in `drain`.
  const kinds = new Map<string, { msg: string; fields: Record<string, unknown> }>();
  const sampled = (level: 'info' | 'warn', key: string, fields: Record<string, unknown>, msg: string) => {
    const s = sampler.take(key);
    if (!s.log) return;
    kinds.set(key, { msg, fields });
    log[level](s.suppressed > 0 ? { ...fields, repeatedSinceLastLine: s.suppressed } : fields, msg);
  };
  const timer = setInterval(() => {
    const { repeats, overflow } = sampler.drain();
    for (const [key, n] of repeats) {
      const k = kinds.get(key);
      if (k) log.info({ ...k.fields, repeated: n, windowSeconds: windowMs / 1000 }, `${k.msg} (repeated)`);
    }
    for (const key of kinds.keys()) if (!sampler.has(key)) kinds.delete(key);
    if (overflow > 0) log.info({ lines: overflow }, 'routing lines not logged (too many distinct kinds)');
  }, windowMs);
  timer.unref();

  return {
    stop: () => clearInterval(timer),
    review(h, seconds) {
      const debug = log.isLevelEnabled('debug');
      const req = h.request;
      const pod = req?.object as { metadata?: { name?: string; generateName?: string } } | undefined;
      const base = {
        uid: req?.uid,
        // The request's own operation string is untrusted: logged as the bounded metric label.
        operation: operationLabel(req?.operation),
        namespace: req?.namespace,
        pod: pod?.metadata?.name ?? pod?.metadata?.generateName,
        dryRun: req?.dryRun ?? false,
        outcome: h.outcome,
        duration_ms: Math.round(seconds * 1000),
      };
      const ns = req?.namespace ?? '';
      if (h.error)
        sampled(
          'warn',
          `error\0${ns}\0${h.outcome}\0${h.error}`,
          { ...base, error: h.error },
          'admission review answered unchanged',
        );
      for (const note of h.admission?.notes ?? [])
        sampled('info', `note\0${ns}\0${note}`, { ...base, note }, 'routing note');
      for (const d of h.admission?.decisions ?? []) {
        const changed = d.by !== 'original';
        if (!changed && !debug) continue;
        const fields = {
          ...base,
          // An image volume is logged under `volume`, so a grep for a container never finds one.
          ...(d.slot === 'volumes' ? { volume: d.container } : { container: d.container }),
          original: d.original,
          chosen: d.chosen,
          by: d.by,
          reason: d.reason,
          rejected: d.rejected,
        };
        if (debug) log.debug(fields, 'routing decision');
        else
          sampled(
            'info',
            `decision\0${ns}\0${d.key}\0${d.original}\0${d.chosen}\0${d.by}\0${d.reason}`,
            fields,
            'routing decision',
          );
      }
    },
  };
}
