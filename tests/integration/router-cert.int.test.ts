// The router process reloading its serving certificate when the files are rotated in place, as
// cert-manager does, including the half-way state a rotation passes through: the new certificate
// is written before its key, so for a moment the pair does not match (issue 14 item 5b: the router
// then kept its old certificate until the next rotation).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connect } from 'node:tls';
import { harness } from '../harness/env.ts';
import { eventually } from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';
import { selfSignedCert } from '../harness/pki.ts';

let router: RunningFunction | undefined;
after(async () => {
  await router?.stop();
});

/** The SHA-256 fingerprint of the certificate the server on `port` presents. */
async function servedFingerprint(port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

const fingerprintOf = async (file: string) => new X509Certificate(await readFile(file)).fingerprint256;

test('a rotation that writes the certificate before its key: the router ends up serving the new certificate', async () => {
  const h = harness();
  const dir = await mkdtemp(join(h.runDir, 'router-cert-'));
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await copyFile(h.pki.webhookCert, certFile);
  await copyFile(h.pki.webhookKey, keyFile);
  router = await startFunction('router', {
    env: { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, CERT_RELOAD_INTERVAL_MS: '200' },
  });
  const port = router.webhookPort!;
  const old = await fingerprintOf(certFile);
  assert.equal(await servedFingerprint(port), old);

  // The next certificate, with a key of its own.
  await selfSignedCert({
    subject: '/CN=localhost',
    key: join(dir, 'next.key'),
    cert: join(dir, 'next.crt'),
    days: '1',
    extra: ['-addext', 'subjectAltName=IP:127.0.0.1'],
  });
  const next = await fingerprintOf(join(dir, 'next.crt'));
  assert.notEqual(next, old);

  // Half-way: the new certificate beside the old key. The router tries, is refused, says so, and
  // keeps serving the old pair.
  await writeFile(certFile, await readFile(join(dir, 'next.crt')));
  await eventually('the router refusing the mismatched pair', async () =>
    (await readFile(router!.proc.logFile, 'utf8')).includes('could not reload the webhook certificate')
      ? true
      : undefined,
  );
  assert.equal(await servedFingerprint(port), old);

  // The key follows: at a later poll the pair matches and is served.
  await writeFile(keyFile, await readFile(join(dir, 'next.key')));
  await eventually('the new certificate served', async () =>
    (await servedFingerprint(port)) === next ? true : undefined,
  );
  assert.match(await readFile(router.proc.logFile, 'utf8'), /reloaded webhook serving certificate/);
});
