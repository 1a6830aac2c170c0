// What counts as a tick (of the monitor, or of reconcile's resync): Knative's PingSource CloudEvent,
// OpenFaaS's cron-connector POST; the rest is 400.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { parseTick } from './request.ts';

function binary(type: string, data?: unknown): { headers: Record<string, string>; body: string } {
  const m = HTTP.binary(
    new CloudEvent({
      id: 'id-1',
      type,
      source: '/apis/v1/namespaces/kuik-system/pingsources/kuik-monitor',
      ...(data === undefined ? {} : { data, datacontenttype: 'application/json' }),
    }),
  );
  return { headers: m.headers as Record<string, string>, body: (m.body as string | undefined) ?? '' };
}

test('a PingSource tick, with or without data, is a tick', () => {
  for (const data of [undefined, { task: 'probe' }]) {
    const m = binary('dev.knative.sources.ping', data);
    assert.deepEqual(parseTick(m.headers, m.body), { ok: true, value: { via: 'pingsource', id: 'id-1' } });
  }
});

test("OpenFaaS cron-connector's plain POST (empty body, no CloudEvent headers) is a tick", () => {
  const r = parseTick(
    { 'x-connector': 'cron-connector', 'x-topic': 'cron-function', 'content-type': 'text/plain' },
    '',
  );
  assert.deepEqual(r, { ok: true, value: { via: 'cron-connector' } });
});

test('another CloudEvent type is refused, naming the type expected', () => {
  const m = binary('dev.knative.apiserver.resource.add', { kind: 'Pod' });
  const r = parseTick(m.headers, m.body);
  assert.ok(!r.ok);
  assert.match(
    r.error,
    /unexpected CloudEvent type "dev\.knative\.apiserver\.resource\.add".*dev\.knative\.sources\.ping/,
  );
});

test('a plain POST without the connector header is refused', () => {
  const r = parseTick({ 'content-type': 'application/json' }, '{"tick":true}');
  assert.ok(!r.ok);
  assert.match(r.error, /CloudEvent/);
  assert.match(r.error, /cron-connector/);
});
