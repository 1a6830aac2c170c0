// An API server that accepts connections and never answers (or answers the headers and then
// stalls): each call through Kube fails with an error naming the operation instead of hanging.
// The server is a bare TCP/HTTP server: a real kube-apiserver cannot be made to do this.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Kube } from './client.ts';
import { DEFAULT_KUBE_API_TIMEOUT_MS, KubeTimeoutError, kubeApiTimeoutFromEnv } from './timeout.ts';

const sockets = new Set<Socket>();
const servers: Server[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function listening(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return addr.port;
}

function kubeAt(port: number, requestTimeoutMs: number): Kube {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'not-a-secret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new Kube(kc, { requestTimeoutMs });
}

test('an API server that accepts and never answers: the call fails at the deadline, naming the operation', {
  timeout: 30_000,
}, async () => {
  const port = await listening(createServer(() => {}));
  const kube = kubeAt(port, 300);
  await assert.rejects(
    kube.getKuik({ kind: 'ImageSetMirror', name: 'app', namespace: 'team' }),
    (err: Error) => {
      assert.ok(err instanceof KubeTimeoutError, `${err.name}: ${err.message}`);
      assert.match(
        err.message,
        /^Kubernetes API GET \/apis\/kuik\.enix\.io\/v1alpha1\/namespaces\/team\/imagesetmirrors\/app: no answer within 300 ms/,
      );
      return true;
    },
  );
  await assert.rejects(kube.core.listPodForAllNamespaces(), /GET \/api\/v1\/pods: no answer within 300 ms/);
});

test('headers sent, then the body stalls: the deadline covers the body too', {
  timeout: 30_000,
}, async () => {
  const port = await listening(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":"PodList","items":[');
    }),
  );
  await assert.rejects(
    kubeAt(port, 300).core.listPodForAllNamespaces(),
    /GET \/api\/v1\/pods: no answer within 300 ms/,
  );
});

test('an answer in time goes through unchanged, API errors included', { timeout: 30_000 }, async () => {
  const port = await listening(
    createHttpServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"kind":"Status","apiVersion":"v1","status":"Failure","message":"nope","code":404}');
    }),
  );
  await assert.rejects(kubeAt(port, 5_000).getSecret('ns', 'gone'), (err: { code?: number }) => {
    assert.equal(err.code, 404);
    return true;
  });
});

test('KUBE_API_TIMEOUT_MS: a number ≥ 0, else the default', () => {
  assert.equal(kubeApiTimeoutFromEnv({}), DEFAULT_KUBE_API_TIMEOUT_MS);
  assert.equal(kubeApiTimeoutFromEnv({ KUBE_API_TIMEOUT_MS: '5000' }), 5000);
  assert.equal(kubeApiTimeoutFromEnv({ KUBE_API_TIMEOUT_MS: '0' }), 0);
  assert.equal(kubeApiTimeoutFromEnv({ KUBE_API_TIMEOUT_MS: 'soon' }), DEFAULT_KUBE_API_TIMEOUT_MS);
});
