// The edges of every function, against real processes (`node functions/main.ts`): what an
// unauthenticated or hostile client can make them spend. Issue 18 and the body limits of issue 14
// (tick coalescing is in edges.cluster.int.test.ts: a tick lists every pod of the cluster):
//   - a 2 MiB image string in a review does not land in the log whole;
//   - the webhook port refuses TLS suites without forward secrecy or with CBC-SHA1, as configured;
//   - headers and bodies that trickle are cut;
//   - bodies above the limit are 413 and do not grow the process's memory.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { parse } from 'yaml';
import { writeBody } from '../harness/body.ts';
import { harness } from '../harness/env.ts';
import { eventually, uniq } from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';
import { admissionReview } from '../harness/webhook.ts';

const MiB = 1024 * 1024;
const running: RunningFunction[] = [];
after(async () => {
  for (const f of running) await f.stop();
});

async function start(
  name: 'router' | 'monitor',
  config?: string,
  env: Record<string, string> = {},
): Promise<RunningFunction> {
  const f = await startFunction(name, { env, ...(config === undefined ? {} : { config }) });
  running.push(f);
  return f;
}

/** The peak resident set of a process, in bytes (VmHWM: the high-water mark, whatever the timing). */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

/** `limits.memory` of a manifest's first container, in bytes ("384Mi"). */
function manifestMemoryLimit(file: string): number {
  const doc = parse(readFileSync(join(harness().repoRoot, file), 'utf8'));
  const spec = doc.spec.template.spec;
  const limit: string = spec.containers[0].resources.limits.memory;
  const m = /^(\d+)Mi$/.exec(limit);
  assert.ok(m, `memory limit ${limit} in Mi`);
  return Number(m[1]) * MiB;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * POST `size` bytes (or `body`) over HTTP(S), streaming from one reused chunk so the test's own
 * memory stays flat; chunked when `chunked`. The server may answer and close before the body is
 * all sent: the answer is what counts.
 */
function post(
  url: string,
  opts: { size?: number; body?: string; chunked?: boolean; headers?: Record<string, string> },
): Promise<Answer> {
  const u = new URL(url);
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const size = body ? body.length : (opts.size ?? 0);
  const headers = {
    'content-type': 'application/json',
    ...(opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(size) }),
    ...opts.headers,
  };
  return new Promise((resolve, reject) => {
    let answered = false;
    const onResponse = (res: IncomingMessage) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
    };
    const common = { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers };
    const req =
      u.protocol === 'https:'
        ? httpsRequest({ ...common, ca: readFileSync(harness().pki.caCert) }, onResponse)
        : httpRequest(common, onResponse);
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (body) return void req.end(body);
    writeBody(req, size, 256 * 1024);
  });
}

function review(image: string, pad = 0): string {
  return admissionReview({
    uid: uniq('uid'),
    namespace: 'edges',
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'edges',
        ...(pad > 0 ? { annotations: { pad: 'x'.repeat(pad) } } : {}),
      },
      spec: { containers: [{ name: 'c', image }] },
    },
  });
}

/** A TLS handshake with the given client options: the protocol and suite, or the error. */
function handshake(
  port: number,
  opts: ConnectionOptions,
): Promise<{ protocol: string; cipher: string } | Error> {
  return new Promise((resolve) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port, ca: readFileSync(harness().pki.caCert), ...opts },
      () => {
        const r = { protocol: socket.getProtocol() ?? '', cipher: socket.getCipher().name };
        socket.end();
        resolve(r);
      },
    );
    socket.on('error', (err) => resolve(err));
  });
}

/**
 * A client that sends headers and part of a body, then one byte every 200 ms; resolves with what
 * the server answered once it closes the connection.
 */
function trickle(port: number, tls: boolean): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(harness().pki.caCert) })
      : netConnect(port, '127.0.0.1');
    let answer = '';
    socket.on(tls ? 'secureConnect' : 'connect', () => {
      socket.write(
        `POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MiB}\r\n\r\n{`,
      );
    });
    const timer = setInterval(() => socket.writable && socket.write(' '), 200);
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve(answer);
    });
  });
}

describe('router', () => {
  let router: RunningFunction;
  before(async () => {
    router = await start('router');
  });

  test('TLS: a TLS 1.2 client offering only suites without forward secrecy or with CBC-SHA1 is refused; TLS 1.3 and ECDHE-GCM clients connect', async () => {
    const port = router.webhookPort!;
    for (const ciphers of ['AES128-SHA', 'AES128-GCM-SHA256', 'AES256-SHA256', 'ECDHE-RSA-AES128-SHA']) {
      const r = await handshake(port, { ciphers, maxVersion: 'TLSv1.2' });
      assert.ok(r instanceof Error, `${ciphers} was accepted: ${JSON.stringify(r)}`);
      assert.match(r.message, /handshake failure|no shared cipher|alert/i, ciphers);
    }
    const tls12 = await handshake(port, { maxVersion: 'TLSv1.2' });
    assert.ok(!(tls12 instanceof Error), String(tls12));
    assert.equal(tls12.protocol, 'TLSv1.2');
    assert.match(tls12.cipher, /^ECDHE-RSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    const tls13 = await handshake(port, {});
    assert.ok(!(tls13 instanceof Error), String(tls13));
    assert.equal(tls13.protocol, 'TLSv1.3');
  });

  test('a 2 MiB image string in 20 reviews adds kilobytes to the log, not 40 MiB; each review is answered', async (t) => {
    const log = router.proc.logFile;
    const before = statSync(log).size;
    const image = `registry.example.com/${'A'.repeat(2 * MiB)}:1`;
    const body = review(image);
    // One at a time, as the apiserver's calls for one pod would come: the point is the log.
    for (let i = 0; i < 20; i++) {
      const a = await post(`https://127.0.0.1:${router.webhookPort}/mutate`, { body });
      assert.equal(a.status, 200, a.body.slice(0, 300));
      assert.equal(JSON.parse(a.body).response.allowed, true);
    }
    // The lines are written by the router's logger; wait until they are there, then measure. At
    // info the router logs the first of a run of like lines and counts the rest (review-log.ts),
    // so 20 alike reviews may leave one line: the bound below holds either way.
    const grown = await eventually('the router logged the reviews', async () => {
      const text = readFileSync(log, 'utf8').slice(before);
      return text.split('\n').some((l) => l.includes('"uid"')) ? text : undefined;
    });
    t.diagnostic(`router log grew by ${grown.length} bytes for 20 reviews`);
    assert.ok(grown.length < 256 * 1024, `the log grew by ${grown.length} bytes`);
    assert.doesNotMatch(grown, /A{4096}/);
    // Cut where it is echoed: by the routing note's own excerpt (its length kept), or by the
    // logger's catch-all for any long string (a head, the length and a hash).
    assert.match(grown, /"sha256":"[0-9a-f]{64}"|… \(2097\d{3} characters\)/);
  });

  test('body limit: a 3.5 MiB review (above the apiserver 3 MiB) is answered; an 8 MiB one is 413 naming the limit', async () => {
    const url = `https://127.0.0.1:${router.webhookPort}/mutate`;
    const ok = await post(url, { body: review('nginx:1.27', 3.5 * MiB) });
    assert.equal(ok.status, 200, ok.body.slice(0, 300));
    for (const chunked of [false, true]) {
      const big = await post(url, { size: 8 * MiB, chunked });
      assert.equal(big.status, 413, `chunked=${chunked}`);
      assert.match(big.body, /larger than the limit of 7 MiB \(7340032 bytes, server\.bodyLimit\.router\)/);
    }
  });

  test('a body that trickles is cut on the webhook (HTTPS) and metrics (HTTP) ports: connection closed', async () => {
    // Default server.requestTimeout 5s; Node's own would hold the connection for 300 s.
    const deadline = new Promise<string>((r) => setTimeout(r, 90_000, 'still open after 90 s')).then((s) => {
      throw new Error(s);
    });
    const answers = await Promise.race([
      Promise.all([trickle(router.webhookPort!, true), trickle(router.port, false)]),
      deadline,
    ]);
    // Node writes its error answer (408, or 400 when the cut lands mid-parse) just before closing;
    // a client still writing may see the reset first. The plain-HTTP port serves no admission
    // (docs/security.md), so it may answer 404 at once; either way the connection is cut.
    const [webhook, metrics] = answers;
    assert.match(webhook ?? '', /^(HTTP\/1\.1 40[08] |$)/);
    assert.match(metrics ?? '', /^(HTTP\/1\.1 40[048] |$)/);
  });
});

describe('router with an operator TLS policy', () => {
  test('server.tls.cipherSuites (IANA names) is what the webhook port serves; server.tls.minVersion VersionTLS13 refuses TLS 1.2', async () => {
    const r12 = await start(
      'router',
      'server:\n  tls:\n    cipherSuites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n',
    );
    const port = r12.webhookPort!;
    for (const ciphers of ['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA']) {
      const ok = await handshake(port, { ciphers, maxVersion: 'TLSv1.2' });
      assert.ok(!(ok instanceof Error), `${ciphers}: ${String(ok)}`);
      assert.equal(ok.cipher, ciphers);
    }
    assert.ok(
      (await handshake(port, { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })) instanceof
        Error,
    );

    const r13 = await start('router', 'server:\n  tls:\n    minVersion: VersionTLS13\n');
    assert.ok((await handshake(r13.webhookPort!, { maxVersion: 'TLSv1.2' })) instanceof Error);
    const ok13 = await handshake(r13.webhookPort!, {});
    assert.ok(!(ok13 instanceof Error), String(ok13));
    assert.equal(ok13.protocol, 'TLSv1.3');
  });
});

describe('monitor', () => {
  test('eight concurrent 25 MiB bodies are 413, and the process stays well under its memory limit', async (t) => {
    // Owning no CISA: should a body get through, its tick probes nothing of other tests.
    const monitor = await start('monitor', undefined, {
      KUIK_MONITOR_CISA_SELECTOR: `kuik-test/edges=${uniq('none')}`,
    });
    const limit = manifestMemoryLimit('manifests/monitor/service.yaml');
    const pid = monitor.proc.child.pid!;
    // Start the high-water mark from now: the start-up's own peak (loading every module) is not
    // what is measured. Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const idle = peakRss(pid);
    const url = `http://127.0.0.1:${monitor.port}/`;
    const answers: (Answer & { chunked: boolean })[] = [];
    for (const chunked of [false, true]) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, () =>
          post(url, { size: 25 * MiB, chunked, headers: { 'x-connector': 'cron-connector' } }),
        ),
      );
      answers.push(...batch.map((a) => ({ ...a, chunked })));
    }
    // Before the limit: 510-522 MiB peak for 384 Mi. Now it grows by a few MiB from an idle
    // ~165 MiB. A quarter of the limit of growth is far below the 200 MiB of bodies sent.
    const peak = peakRss(pid);
    t.diagnostic(
      `monitor peak RSS ${Math.round(peak / MiB)} MiB (${Math.round(idle / MiB)} MiB when the bodies started; limit ${limit / MiB} MiB)`,
    );
    const mib = (n: number) => `${Math.round(n / MiB)} MiB`;
    assert.ok(peak - idle < limit / 4, `peak RSS grew by ${mib(peak - idle)} (limit ${mib(limit)})`);
    assert.ok(peak < (limit * 3) / 4, `peak RSS ${mib(peak)}, limit ${mib(limit)}`);
    for (const a of answers) {
      assert.equal(a.status, 413, `chunked=${a.chunked}: ${a.body.slice(0, 200)}`);
      assert.match(a.body, /larger than the limit of 64 KiB \(65536 bytes, server\.bodyLimit\.monitor\)/);
    }
  });
});
