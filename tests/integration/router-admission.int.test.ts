// Who can reach the router's admission endpoint (issue 14): only its TLS port serves /mutate (the
// plain-HTTP port is opened to the kubelet and Prometheus), and with a client CA configured only a
// client holding a certificate that CA signed (the apiserver, through its admission kubeconfig)
// gets past the TLS handshake. The router runs as its own process, as in its container.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { harness } from '../harness/env.ts';
import { eventually, samples } from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';
import { pkiPaths } from '../harness/pki.ts';
import { startPrivateControlPlane } from '../harness/private-controlplane.ts';
import { run } from '../harness/proc.ts';

/** A review the router answers without touching anything: a DELETE is ignored. */
const REVIEW = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'DELETE',
    namespace: 'default',
  },
});

/** POST the review over TLS, optionally with a client certificate: status, or the TLS error. */
async function postTls(
  port: number,
  client?: { cert: Buffer; key: Buffer },
): Promise<{ status: number; body: string } | { error: string }> {
  const ca = await readFile(harness().pki.caCert);
  return await new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mutate',
        method: 'POST',
        ca,
        ...(client ?? {}),
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (err) => resolve({ error: err.message }));
    req.end(REVIEW);
  });
}

let open: RunningFunction;
let mtls: RunningFunction;
before(async () => {
  open = await startFunction('router');
  mtls = await startFunction('router', {
    env: { WEBHOOK_CLIENT_CA_FILE: harness().pki.caCert, KUIK_METRICS_AUTH: 'true' },
  });
});
after(async () => {
  await open?.stop();
  await mtls?.stop();
});

test('the plain-HTTP port serves health and metrics, never admission: /mutate there is 404', async () => {
  for (const path of ['/mutate', '/mutate--v1-pod']) {
    const res = await fetch(`http://127.0.0.1:${open.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: REVIEW,
    });
    assert.equal(res.status, 404, path);
  }
  assert.equal((await fetch(`http://127.0.0.1:${open.port}/metrics`)).status, 200);
  // The TLS port answers the same review.
  const r = await postTls(open.webhookPort ?? 0);
  assert.ok('status' in r, JSON.stringify(r));
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body).response, { uid: 'u-1', allowed: true });
});

test('with WEBHOOK_CLIENT_CA_FILE, a TLS client without a certificate from that CA is refused at the handshake', async () => {
  const port = mtls.webhookPort ?? 0;
  const anonymous = await postTls(port);
  assert.ok('error' in anonymous, `answered without a client certificate: ${JSON.stringify(anonymous)}`);
  // A client certificate the CA did not sign: refused too.
  const dir = await mkdtemp(join(harness().runDir, 'stranger-'));
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=stranger',
    '-keyout',
    join(dir, 'k.pem'),
    '-out',
    join(dir, 'c.pem'),
  ]);
  const stranger = await postTls(port, {
    cert: await readFile(join(dir, 'c.pem')),
    key: await readFile(join(dir, 'k.pem')),
  });
  assert.ok('error' in stranger, `answered a certificate of another CA: ${JSON.stringify(stranger)}`);
  // The CA's client certificate (the harness's admin one) passes.
  const pki = pkiPaths(harness().pki.dir);
  const signed = await postTls(port, {
    cert: await readFile(pki.adminCert),
    key: await readFile(pki.adminKey),
  });
  assert.ok('status' in signed, JSON.stringify(signed));
  assert.equal(signed.status, 200);
  // Health stays on plain HTTP, without client certificates; /metrics, with KUIK_METRICS_AUTH,
  // wants a bearer token (access.int.test.ts checks the token path).
  assert.equal((await fetch(`http://127.0.0.1:${mtls.port}/readyz`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${mtls.port}/metrics`)).status, 401);
});

test('a real API server with an admission kubeconfig presents its client certificate and is answered', async () => {
  // A control plane of its own: its kube-apiserver gets --admission-control-config-file, whose
  // kubeconfig gives every webhook call a client certificate signed by the harness CA.
  const pki = pkiPaths(harness().pki.dir);
  const kubeconfig = `apiVersion: v1
kind: Config
users:
  - name: "*"
    user:
      client-certificate: ${pki.adminCert}
      client-key: ${pki.adminKey}
`;
  const admission = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: MutatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: {dir}/admission-kubeconfig.yaml
`;
  const cp = await startPrivateControlPlane(
    'mtls',
    ['--admission-control-config-file={dir}/admission.yaml'],
    { 'admission-kubeconfig.yaml': kubeconfig, 'admission.yaml': admission },
  );
  let router: RunningFunction | undefined;
  try {
    router = await startFunction('router', {
      env: { KUBECONFIG: cp.kubeconfig, WEBHOOK_CLIENT_CA_FILE: harness().pki.caCert },
    });
    const caBundle = (await readFile(harness().pki.caCert)).toString('base64');
    await cp.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'kuik-router' },
        webhooks: [
          {
            name: 'pods.router.kuik.enix.io',
            clientConfig: { url: `https://127.0.0.1:${router.webhookPort}/mutate`, caBundle },
            rules: [
              {
                apiGroups: [''],
                apiVersions: ['v1'],
                operations: ['CREATE'],
                resources: ['pods'],
                scope: 'Namespaced',
              },
            ],
            admissionReviewVersions: ['v1'],
            sideEffects: 'NoneOnDryRun',
            failurePolicy: 'Ignore',
            timeoutSeconds: 5,
          },
        ],
      }),
    );
    const pod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probe', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'busybox:1' }] },
    });
    const port = router.port;
    const reviewed = async () =>
      samples(
        await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
        'kube_image_keeper_router_reviews_total',
      )
        .filter((x) => x.labels['operation'] === 'CREATE')
        .reduce((n, x) => n + x.value, 0);
    // The API server picks the configuration up asynchronously: create (dry run) until a review lands.
    await eventually(
      'the API server’s review reached the router through mutual TLS',
      async () => {
        await cp.kubectl(['create', '--dry-run=server', '-f', '-'], pod);
        return (await reviewed()) > 0 ? true : undefined;
      },
      60_000,
      500,
    );
  } finally {
    await router?.stop();
    await cp.stop();
  }
});
