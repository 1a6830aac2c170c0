// The admission endpoint reads a review's body from Node's request stream (not through a web
// Request) under the router's body limit: what reaches the decision, and what a client over the
// limit gets back, are the same whether the app is served by Node or called with `app.request()`.
// Real sockets for the first.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { listen } from '#shared/http/serve.ts';
import { createAdmissionApp } from './admission-app.ts';

const LIMIT = 64 * 1024;

function app() {
  const seen: unknown[] = [];
  const a = createAdmissionApp(
    async (body) => {
      seen.push(body);
      return { status: 200, body: { got: body }, outcome: 'ignored' };
    },
    { bodyLimit: LIMIT, bodyLimitKey: 'server.bodyLimit.router' },
  );
  return { app: a, seen };
}

/** POST `body` to /mutate; chunked (no Content-Length) when asked. Tolerates an early close. */
function post(port: number, body: Buffer, chunked: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/mutate',
        headers: {
          'content-type': 'application/json',
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    // In pieces, so a chunked body arrives as several chunks.
    for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
    req.end();
  });
}

const review = {
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u1', pad: '' },
};
/** A review whose JSON is exactly `size` bytes. */
const reviewOf = (size: number) => {
  const base = Buffer.byteLength(JSON.stringify(review));
  return Buffer.from(
    JSON.stringify({ ...review, request: { ...review.request, pad: 'a'.repeat(size - base) } }),
  );
};

test('served by Node: the review reaches the decision parsed, with or without Content-Length, up to the limit', async () => {
  const { app: a, seen } = app();
  const srv = await listen(a, { port: 0, host: '127.0.0.1' });
  try {
    for (const chunked of [false, true]) {
      for (const size of [200, LIMIT]) {
        const body = reviewOf(size);
        assert.equal(body.length, size);
        const r = await post(srv.port, body, chunked);
        assert.equal(r.status, 200, `chunked=${chunked} size=${size}: ${r.body}`);
        assert.deepEqual(JSON.parse(r.body).got, JSON.parse(body.toString()));
        assert.deepEqual(seen.at(-1), JSON.parse(body.toString()));
      }
    }
    // Not JSON: the decision gets nothing (and answers for itself, as before).
    await post(srv.port, Buffer.from('{not json'), true);
    assert.equal(seen.at(-1), undefined);
    assert.equal(seen.length, 5);
  } finally {
    await srv.close();
  }
});

test('served by Node: a body over the limit is answered 413 naming the setting, and never decided', async () => {
  const { app: a, seen } = app();
  const srv = await listen(a, { port: 0, host: '127.0.0.1' });
  try {
    for (const chunked of [false, true]) {
      const r = await post(srv.port, reviewOf(LIMIT + 1), chunked);
      assert.equal(r.status, 413, `chunked=${chunked}`);
      assert.match(
        JSON.parse(r.body).error,
        /larger than the limit of 64 KiB \(65536 bytes, server\.bodyLimit\.router\)/,
      );
      // The connection still serves the next review.
      assert.equal((await post(srv.port, reviewOf(300), chunked)).status, 200);
    }
    assert.equal(seen.length, 2);
  } finally {
    await srv.close();
  }
});

test('through app.request() (no Node request): the same answers', async () => {
  const { app: a, seen } = app();
  const ok = await a.request('/mutate--v1-pod', { method: 'POST', body: reviewOf(500) });
  assert.equal(ok.status, 200);
  assert.deepEqual(seen.at(-1), JSON.parse(reviewOf(500).toString()));
  const big = await a.request('/mutate', {
    method: 'POST',
    body: reviewOf(LIMIT + 1),
    headers: { 'content-length': String(LIMIT + 1) },
  });
  assert.equal(big.status, 413);
  assert.equal(seen.length, 1);
});
