// The transport's per-host state is bounded: hosts come from pod specs (issue 14).
import assert from 'node:assert/strict';
import type { LookupFunction } from 'node:net';
import { test } from 'node:test';
import { RegistryError } from './errors.ts';
import { NO_RETRY } from './retry.ts';
import { RegistryTransport } from './transport.ts';

test('100 distinct hosts: host state stays within maxHosts', async () => {
  const looked: string[] = [];
  const lookup: LookupFunction = (hostname, _opts, cb) => {
    looked.push(hostname);
    cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
  };
  const t = new RegistryTransport({ maxHosts: 16, lookup, retry: NO_RETRY });
  for (let i = 0; i < 100; i++) {
    await assert.rejects(
      t.request(`h${i}.example`, { method: 'HEAD', path: '/v2/x/manifests/1', scopes: [] }),
      (e: unknown) => e instanceof RegistryError && /ENOTFOUND/.test(e.message),
    );
  }
  assert.ok(t.hostCount <= 16, `${t.hostCount} hosts held`);
  assert.equal(looked.length, 100, 'every connection resolved through the given lookup');
  await t.close();
});
