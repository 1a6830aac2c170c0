// The shared Secret → credentials resolver (§2.8): what every function gets from the Secrets it names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SecretLike } from '../registry/credentials.ts';
import { KeyringCache } from './keyring-cache.ts';
import { CredentialResolver, describeFailures, type ReadSecret, readOnce } from './resolver.ts';

function dockerSecret(namespace: string, name: string, registry: string, user: string): SecretLike {
  const config = { auths: { [registry]: { auth: Buffer.from(`${user}:pw`).toString('base64') } } };
  return {
    metadata: { namespace, name },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
  };
}

const malformed: SecretLike = {
  metadata: { namespace: 'ns', name: 'bad' },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': Buffer.from('{"auths": 12, "password": "hunter2"').toString('base64') },
};

/** Absent Secrets read as undefined; `boom` fails like a 403. */
function reader(secrets: SecretLike[]): ReadSecret & { calls: string[] } {
  const calls: string[] = [];
  const read: ReadSecret = async (namespace, name) => {
    calls.push(`${namespace}/${name}`);
    if (name === 'boom') throw new Error('secrets "boom" is forbidden');
    return secrets.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
  };
  return Object.assign(read, { calls });
}

test('credentials of every named Secret for the image, most specific key first', async () => {
  const r = new CredentialResolver(
    reader([
      dockerSecret('ns', 'wide', 'registry.local:5000', 'wide'),
      dockerSecret('ns', 'team', 'registry.local:5000/team', 'team'),
      dockerSecret('ns', 'other', 'quay.io', 'other'),
    ]),
  );
  const got = await r.resolve(
    [
      { namespace: 'ns', name: 'wide' },
      { namespace: 'ns', name: 'team' },
      { namespace: 'ns', name: 'other' },
    ],
    'registry.local:5000/team/app:1',
  );
  assert.ok(got.ok);
  assert.deepEqual(
    got.value.map((c) => [c.username, c.source.name]),
    [
      ['team', 'team'],
      ['wide', 'wide'],
    ],
  );
});

test('no Secret named: no credentials, nothing read', async () => {
  const read = reader([]);
  assert.deepEqual(await new CredentialResolver(read).resolve([], 'nginx'), { ok: true, value: [] });
  assert.deepEqual(read.calls, []);
});

test('absent and unreadable Secrets are each a failure naming the Secret, in the caller’s words', async () => {
  const r = new CredentialResolver(reader([dockerSecret('ns', 'ok', 'quay.io', 'u')]));
  const got = await r.resolve(
    [
      { namespace: 'ns', name: 'gone' },
      { namespace: 'ns', name: 'ok' },
      { namespace: 'ns', name: 'boom' },
    ],
    'quay.io/a/b',
  );
  assert.equal(got.ok, false);
  assert.ok(!got.ok);
  assert.deepEqual(
    got.error.map((f) => f.kind),
    ['absent', 'unreadable'],
  );
  assert.equal(
    describeFailures(got.error, 'pull secret'),
    'pull secret ns/gone: not found; pull secret ns/boom: secrets "boom" is forbidden',
  );
});

test('a malformed Secret fails with a sentence naming it, never its content', async () => {
  const r = new CredentialResolver(reader([malformed]));
  const got = await r.resolve([{ namespace: 'ns', name: 'bad' }], 'quay.io/a/b');
  assert.ok(!got.ok);
  assert.equal(got.error[0]?.kind, 'malformed');
  const line = describeFailures(got.error, 'credential secret');
  assert.match(line, /^pull secret ns\/bad: /);
  assert.doesNotMatch(line, /hunter2/);
});

test('one keyring per set of Secret objects, however many images are looked up', async () => {
  const keyrings = new KeyringCache();
  const r = new CredentialResolver(readOnce(reader([dockerSecret('ns', 's', 'quay.io', 'u')])), keyrings);
  for (const image of ['quay.io/a/b', 'quay.io/c/d', 'quay.io/a/b:2'])
    assert.ok((await r.resolve([{ namespace: 'ns', name: 's' }], image)).ok);
  assert.equal(keyrings.builds, 1);
});

test('readOnce: one read per Secret in its scope, a failure included', async () => {
  let reads = 0;
  const once = readOnce(async (_ns: string, name: string) => {
    reads++;
    if (name === 'x') throw new Error('boom');
    return name;
  });
  assert.deepEqual(await Promise.all([once('a', 'y'), once('a', 'y')]), ['y', 'y']);
  await assert.rejects(once('a', 'x'), /boom/);
  await assert.rejects(once('a', 'x'), /boom/);
  assert.equal(reads, 2);
});
