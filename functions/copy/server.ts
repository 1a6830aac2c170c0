// The copy function's HTTP shell (a Knative Service, or the same image as a JobSink's Job: job.ts):
// POST / takes one `dev.kuik.copy.requested` CloudEvent and answers once the copy and its status
// write are done (knative notes §3.5: never 202-and-continue, the pod may be scaled away).
//
// Answers (knative notes §5.4): 200 with the outcome, a failed copy included (its error is in
// status and the next reconcile or resync asks again); 400 for a malformed event, nothing
// written; 403 when the request names Secrets its mirror set or pods do not vouch for (issue 14:
// nothing read, nothing written, not retried); 503 when the API server failed, so the sender
// retries.
//
// The same request arriving while its copy runs (an ImageSetMirror event and a Pod event seconds
// apart, a broker's redelivery) joins the running copy and gets its answer: two copies of one image
// into one repository would upload every blob twice and race on the status write.
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { parseCloudEvent } from '#shared/cloudevents.ts';
import { defaultConfig } from '#shared/config/config.ts';
import { copyEventId } from '#shared/copy-request.ts';
import { errorMessage } from '#shared/errors.ts';
import { createApp } from '#shared/http/app.ts';
import { type BodyLimit, bodyLimitOf } from '#shared/http/limits.ts';
import { untrusted } from '#shared/log.ts';
import { SingleFlight } from '#shared/single-flight.ts';
import { decodeCopyEvent } from './event.ts';
import { type CopyDeps, type HandleResult, handleCopy } from './handle.ts';
import type { CopyMetrics } from './metrics.ts';

export function createCopyApp(
  deps: CopyDeps,
  registry: Registry,
  metrics: CopyMetrics,
  /** Copies in progress, for a shutdown that waits for them to record their sessions. */
  inflight: Set<Promise<unknown>> = new Set(),
  limits: BodyLimit = bodyLimitOf(defaultConfig(), 'copy'),
): Hono {
  const app = createApp({ registry, ...limits });
  const flights = new SingleFlight<HandleResult>();
  app.post('/', async (c) => {
    const parsed = parseCloudEvent(c.req.header(), await c.req.text());
    const decoded = parsed.ok ? decodeCopyEvent(parsed.value) : parsed;
    if (!decoded.ok) {
      metrics.events.inc({ result: 'invalid' });
      deps.log.warn(
        { id: untrusted(parsed.ok ? parsed.value.id : undefined), error: untrusted(decoded.error) },
        'refused event',
      );
      return c.json({ error: decoded.error }, 400);
    }
    const id = parsed.ok ? parsed.value.id : undefined;
    // The request's own identity, not the event id: a sender may mint its own ids.
    const key = copyEventId(decoded.value);
    const joined = flights.has(key);
    if (joined) {
      deps.log.info(
        {
          id: untrusted(id),
          source: untrusted(decoded.value.source),
          destination: untrusted(decoded.value.destination),
        },
        'joined the same copy, already running',
      );
    }
    try {
      const running = flights.do(key, () => handleCopy(decoded.value, deps));
      inflight.add(running);
      const r = await running.finally(() => inflight.delete(running));
      metrics.events.inc({ result: joined ? 'joined' : 'ok' });
      return c.json(
        {
          id,
          outcome: r.outcome,
          source: r.source,
          destination: r.destination,
          ...(r.digest ? { digest: r.digest } : {}),
          ...(r.error ? { error: r.error } : {}),
        },
        r.outcome === 'refused' ? 403 : 200,
      );
    } catch (err) {
      metrics.events.inc({ result: 'retry' });
      deps.log.warn(
        { id: untrusted(id), err: untrusted(errorMessage(err)) },
        'copy event failed, asking for a retry',
      );
      return c.json({ error: errorMessage(err) }, 503);
    }
  });
  return app;
}
