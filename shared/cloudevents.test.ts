import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { parseCloudEvent, sendCloudEvent } from './cloudevents.ts';

const binary = {
  'ce-specversion': '1.0',
  'ce-id': 'abc',
  'ce-type': 'dev.knative.apiserver.resource.add',
  'ce-source': 'https://127.0.0.1:6443',
  'ce-subject': '/apis/v1/namespaces/ns/pods/p',
  'ce-kind': 'Pod',
  'ce-namespace': 'ns',
  'content-type': 'application/json',
};

test('a binary-mode ApiServerSource event parses with its data and extensions', () => {
  const r = parseCloudEvent(binary, '{"kind":"Pod","metadata":{"name":"p"}}');
  assert.ok(r.ok);
  assert.equal(r.value.type, 'dev.knative.apiserver.resource.add');
  assert.deepEqual(r.value.data, { kind: 'Pod', metadata: { name: 'p' } });
  assert.equal(r.value.extensions['kind'], 'Pod');
  assert.equal(r.value.extensions['namespace'], 'ns');
});

test('malformed input gives a reason, never an exception', () => {
  for (const [h, b] of [
    [{ 'content-type': 'application/json' }, '{}'],
    [{ ...binary, 'ce-specversion': '9.9' }, '{}'],
    [{ ...binary, 'ce-id': '' }, '{}'],
    [binary, '{not json'],
  ] as const) {
    const r = parseCloudEvent({ ...h }, b);
    assert.equal(r.ok, false, JSON.stringify(h));
    assert.ok(!r.ok && r.error.length > 0);
  }
});

test('sendCloudEvent delivers binary mode and throws on a non-2xx answer', async () => {
  let got: { headers: Record<string, string>; body: string } | undefined;
  let status = 202;
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got = { headers: req.headers as Record<string, string>, body };
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/`;
  try {
    await sendCloudEvent(url, {
      id: 'i1',
      type: 'dev.kuik.copy.requested',
      source: '/kuik/reconcile',
      data: { a: 1 },
    });
    assert.equal(got?.headers['ce-id'], 'i1');
    assert.deepEqual(JSON.parse(got?.body ?? ''), { a: 1 });
    const back = parseCloudEvent(got!.headers, got!.body);
    assert.ok(back.ok && back.value.type === 'dev.kuik.copy.requested');
    status = 503;
    await assert.rejects(
      sendCloudEvent(url, { id: 'i2', type: 't', source: '/s', data: {} }),
      /answered 503/,
    );
  } finally {
    srv.close();
  }
});
