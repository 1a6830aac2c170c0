// Every server bounds what a client can hold: a body above the limit is answered 413 naming it,
// headers and bodies that trickle are cut (408, connection closed) and what they had sent is freed.
// Real sockets, in this process (its memory is what the last test reads).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { writeBody } from '../../tests/harness/body.ts';
import { createRegistry } from '../metrics.ts';
import { createApp } from './app.ts';
import { listen, type Serving, timeoutOptions } from './serve.ts';

const MiB = 1024 * 1024;

/** An app that reads whole bodies, as every trigger endpoint does; records what became of each. */
function echoApp(bodyLimit: number) {
  const seen = { read: 0, failed: 0 };
  const app = createApp({ registry: createRegistry('t'), bodyLimit, bodyLimitKey: 'server.bodyLimit.test' });
  app.post('/', async (c) => {
    try {
      const text = await c.req.text();
      seen.read++;
      return c.json({ bytes: text.length });
    } catch {
      seen.failed++;
      return c.json({ error: 'body aborted' }, 400);
    }
  });
  return { app, seen };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** POST `size` bytes; chunked (no Content-Length) when `chunked`. Tolerates the server closing early. */
async function post(port: number, size: number, chunked = false): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(size) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    // The server may answer and close before the whole body is sent: that is the point.
    req.on('error', (err) => reject(err));
    writeBody(req, size);
  });
}

async function withServer<T>(
  app: Parameters<typeof listen>[0],
  opts: Omit<Parameters<typeof listen>[1], 'port'>,
  fn: (s: Serving) => Promise<T>,
): Promise<T> {
  const srv = await listen(app, { port: 0, host: '127.0.0.1', ...opts });
  try {
    return await fn(srv);
  } finally {
    await srv.close();
  }
}

test('a body above the limit is answered 413 naming the limit, with or without Content-Length; one at the limit is read', async () => {
  const { app, seen } = echoApp(MiB);
  await withServer(app, {}, async (srv) => {
    for (const chunked of [false, true]) {
      const r = await post(srv.port, 25 * MiB, chunked);
      assert.equal(r.status, 413, `chunked=${chunked}`);
      assert.match(
        JSON.parse(r.body).error,
        /larger than the limit of 1 MiB \(1048576 bytes, server\.bodyLimit\.test\)/,
      );
      const ok = await post(srv.port, MiB, chunked);
      assert.equal(ok.status, 200, ok.body);
      assert.equal(JSON.parse(ok.body).bytes, MiB);
    }
    assert.equal(seen.read, 2);
  });
});

/** A raw connection: send `head`, then keep trickling one byte; resolves with what came back on close. */
function trickle(port: number, head: string | (string | Buffer)[], everyMs = 200) {
  const socket: Socket = connect(port, '127.0.0.1');
  let answer = '';
  let closed = false;
  socket.on('data', (d) => (answer += d.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    clearInterval(timer);
  });
  for (const part of Array.isArray(head) ? head : [head]) socket.write(part);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write('a');
  }, everyMs);
  return {
    closed: () => closed,
    answer: () => answer,
    destroy: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

test('headers that trickle are cut after headersTimeout: 408 and the connection closed', async () => {
  const { app } = echoApp(MiB);
  await withServer(app, { timeouts: { headersTimeout: 500, requestTimeout: 1000 } }, async (srv) => {
    const t = trickle(srv.port, 'POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    try {
      // Node's default would wait 60 s (checked every 30 s).
      await until('the server closes the connection', t.closed, 30_000);
      assert.match(t.answer(), /^HTTP\/1\.1 408/);
    } finally {
      t.destroy();
    }
  });
});

test('a body that trickles is cut after requestTimeout, its handler sees the body fail, and what it had buffered is freed', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const buffered = () => {
    gc();
    return process.memoryUsage().arrayBuffers;
  };
  const { app, seen } = echoApp(16 * MiB);
  await withServer(app, { timeouts: { headersTimeout: 500, requestTimeout: 1000 } }, async (srv) => {
    const before = buffered();
    // 8 MiB promised, 6 MiB sent at once, then a byte every 200 ms: without the timeout the server
    // holds the 6 MiB (and the connection) for Node's default 300 s.
    const t = trickle(srv.port, [
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${8 * MiB}\r\n\r\n`,
      Buffer.alloc(6 * MiB, 0x62),
    ]);
    try {
      await until('the server closes the connection', t.closed);
      assert.match(t.answer(), /^HTTP\/1\.1 408/);
      await until('the handler saw its body fail', () => seen.failed === 1);
      assert.equal(seen.read, 0);
      await until('the 6 MiB buffered are freed', () => buffered() - before < 2 * MiB);
    } finally {
      t.destroy();
    }
  });
});

test('timeouts: Node checks for expired requests often enough to honour them', () => {
  assert.deepEqual(timeoutOptions({ headersTimeout: 3000, requestTimeout: 5000 }), {
    headersTimeout: 3000,
    requestTimeout: 5000,
    connectionsCheckingInterval: 600,
  });
  assert.equal(timeoutOptions({ headersTimeout: 100, requestTimeout: 100 }).connectionsCheckingInterval, 100);
  assert.equal(
    timeoutOptions({ headersTimeout: 60_000, requestTimeout: 60_000 }).connectionsCheckingInterval,
    1000,
  );
});
