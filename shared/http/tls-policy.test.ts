// The webhook's TLS policy: apiserver-style names in, OpenSSL's out; AEAD + forward secrecy by default.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TLS_POLICY, tlsServerOptions } from './tls-policy.ts';

test('the default serves TLS 1.2+ with ECDHE + AEAD suites only, and TLS 1.3', () => {
  const o = tlsServerOptions(DEFAULT_TLS_POLICY);
  assert.equal(o.minVersion, 'TLSv1.2');
  assert.equal(o.honorCipherOrder, true);
  const suites = (o.ciphers ?? '').split(':');
  assert.deepEqual(suites.slice(0, 3), [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
  ]);
  for (const s of suites.slice(3))
    assert.match(s, /^ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
  assert.equal(suites.length, 9);
});

test('an operator list maps Go/IANA names to OpenSSL names, keeps its order, and TLS 1.3 stays on', () => {
  const o = tlsServerOptions({
    minVersion: 'VersionTLS12',
    cipherSuites: [
      'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
      'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
      'TLS_AES_256_GCM_SHA384',
    ],
  });
  assert.equal(
    o.ciphers,
    'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-AES128-SHA:ECDHE-RSA-CHACHA20-POLY1305',
  );
  assert.equal(tlsServerOptions({ minVersion: 'VersionTLS13', cipherSuites: [] }).minVersion, 'TLSv1.3');
});

test('an unknown suite is refused with its name', () => {
  assert.throws(
    () => tlsServerOptions({ minVersion: 'VersionTLS12', cipherSuites: ['TLS_RSA_WITH_RC4_128_SHA'] }),
    /unknown or unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA"/,
  );
});
