import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReference } from '../image/reference.ts';
import { KeyringCache } from './keyring-cache.ts';

const secret = (host: string, user: string) => ({
  metadata: { name: `s-${user}`, namespace: 'ns' },
  type: 'kubernetes.io/dockerconfigjson',
  data: {
    '.dockerconfigjson': Buffer.from(
      JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:pw`).toString('base64') } } }),
    ).toString('base64'),
  },
});
const ref = (s: string) => {
  const r = parseReference(s);
  assert.ok(r.ok);
  return r.value;
};

test('the keyring of a set of Secret objects is built once and answers per image', () => {
  const c = new KeyringCache();
  const a = secret('harbor.example.com', 'alice');
  const b = secret('quay.io', 'bob');
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(
      c.credentialsFor([a, b], ref('harbor.example.com/x/y:1')).map((x) => x.username),
      ['alice'],
    );
    assert.deepEqual(
      c.credentialsFor([a, b], ref('quay.io/x/y:1')).map((x) => x.username),
      ['bob'],
    );
  }
  assert.equal(c.builds, 1);
  // A re-read Secret is a new object: a new keyring, so rotated credentials are used.
  assert.deepEqual(
    c
      .credentialsFor([secret('harbor.example.com', 'carol'), b], ref('harbor.example.com/x/y:1'))
      .map((x) => x.username),
    ['carol'],
  );
  assert.equal(c.builds, 2);
});

test('a malformed Secret is an error naming it, every time', () => {
  const c = new KeyringCache();
  const bad = {
    metadata: { name: 'broken', namespace: 'ns' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from('{nope').toString('base64') },
  };
  assert.throws(() => c.credentialsFor([bad], ref('nginx:1')), /broken/);
  assert.throws(() => c.credentialsFor([bad], ref('nginx:1')), /broken/);
});
