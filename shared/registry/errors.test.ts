import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTemporaryNetworkError, outcomeOfError, RegistryError } from './errors.ts';

test('HTTP errors map by status, including token refusals; everything else is Unreachable', () => {
  assert.equal(
    outcomeOfError(new RegistryError('http', 'x', { status: 401, phase: 'token' })),
    'InvalidAuth',
  );
  assert.equal(
    outcomeOfError(new RegistryError('http', 'x', { status: 429, phase: 'token' })),
    'QuotaExceeded',
  );
  assert.equal(outcomeOfError(new RegistryError('http', 'x', { status: 404 })), 'NotFound');
  assert.equal(outcomeOfError(new RegistryError('timeout', 'x')), 'Unreachable');
  assert.equal(outcomeOfError(new RegistryError('network', 'x')), 'Unreachable');
  assert.equal(outcomeOfError(new Error('boom')), 'Unreachable');
});

test('a /v2/ ping answered 404 is "not a registry", not "image not found"', () => {
  assert.equal(outcomeOfError(new RegistryError('http', 'x', { status: 404, phase: 'ping' })), 'Unreachable');
  assert.equal(
    outcomeOfError(new RegistryError('http', 'x', { status: 429, phase: 'ping' })),
    'QuotaExceeded',
  );
});

test('resets and closed sockets are retried; refused connections and TLS failures are not', () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(isTemporaryNetworkError(coded('ECONNRESET')), true);
  assert.equal(isTemporaryNetworkError(coded('UND_ERR_SOCKET')), true);
  assert.equal(isTemporaryNetworkError(new Error('fetch failed', { cause: coded('EPIPE') })), true);
  assert.equal(isTemporaryNetworkError(coded('ECONNREFUSED')), false);
  assert.equal(isTemporaryNetworkError(coded('SELF_SIGNED_CERT_IN_CHAIN')), false);
  assert.equal(isTemporaryNetworkError(new Error('x')), false);
});
