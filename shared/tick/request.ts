// What a scheduled trigger looks like: Knative's PingSource (a CloudEvent of type
// dev.knative.sources.ping) or OpenFaaS's cron-connector (a plain POST, empty body, header
// `X-Connector: cron-connector`). The monitor's tick and reconcile's full resync are both ticked
// this way, each by a schedule of its own (manifests/monitor/ping.yaml, manifests/reconcile/ping.yaml).
import { parseCloudEvent } from '../cloudevents.ts';
import type { Result } from '../result.ts';

export const PING_EVENT_TYPE = 'dev.knative.sources.ping';

export type TickRequest = Result<{ via: 'pingsource' | 'cron-connector'; id?: string }>;

/** OpenFaaS's cron-connector: no CloudEvent, just this header. */
export function isCronConnector(headers: Record<string, string>): boolean {
  return headers['x-connector'] === 'cron-connector';
}

/** Is this POST a tick? Pure: headers (lower-case names) and body in. */
export function parseTick(headers: Record<string, string>, body: string): TickRequest {
  if (isCronConnector(headers)) return { ok: true, value: { via: 'cron-connector' } };
  const parsed = parseCloudEvent(headers, body);
  if (!parsed.ok)
    return {
      ok: false,
      error: `${parsed.error} (expected a ${PING_EVENT_TYPE} CloudEvent or a cron-connector POST)`,
    };
  if (parsed.value.type !== PING_EVENT_TYPE) {
    return {
      ok: false,
      error: `unexpected CloudEvent type ${JSON.stringify(parsed.value.type)}: the monitor takes ${PING_EVENT_TYPE} ticks`,
    };
  }
  return { ok: true, value: { via: 'pingsource', id: parsed.value.id } };
}
