// §6.4: credential resolution for a probe, and the status a probe result becomes (§6.5).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { SecretLike } from '#shared/registry/credentials.ts';
import { resolveCredentials, type SecretReader, secretIndex, verdict } from './credentials.ts';

const IMAGE = 'registry.local:5000/team/app:1';

function pod(ns: string, image: string, secrets: string[], original?: string): V1Pod {
  return {
    metadata: {
      namespace: ns,
      name: 'p',
      annotations: original ? { 'kuik.enix.io/original-images': JSON.stringify({ c: original }) } : {},
    },
    spec: { containers: [{ name: 'c', image }], imagePullSecrets: secrets.map((name) => ({ name })) },
  };
}

function dockerSecret(ns: string, name: string, registry: string, user: string): SecretLike {
  const config = { auths: { [registry]: { auth: Buffer.from(`${user}:pw`).toString('base64') } } };
  return {
    metadata: { namespace: ns, name },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
  };
}

/** A reader over a fixed set of Secrets; missing ones fail like the API server's 404. */
function reader(secrets: SecretLike[]): SecretReader & { calls: string[] } {
  const calls: string[] = [];
  const read = async (ns: string, name: string) => {
    calls.push(`${ns}/${name}`);
    const s = secrets.find((x) => x.metadata?.namespace === ns && x.metadata?.name === name);
    if (!s) throw new Error(`secrets "${name}" not found`);
    return s;
  };
  return Object.assign(read, { calls });
}

describe('pods that can lend pull secrets', () => {
  test('pods with imagePullSecrets that run the image or name it as original, in list order', () => {
    const pods = [
      pod('a', IMAGE, []),
      pod('b', 'other.local/x:1', ['s']),
      pod('c', 'mirror.local/team/app:1', ['m'], IMAGE),
      pod('d', IMAGE, ['s1', 's2']),
    ];
    assert.deepEqual(secretIndex(pods).get(IMAGE), [
      { namespace: 'c', names: ['m'] },
      { namespace: 'd', names: ['s1', 's2'] },
    ]);
  });
});

describe('resolution (§6.4 step 1)', () => {
  test('the first pod whose secrets all read is used', async () => {
    const read = reader([dockerSecret('d', 'ok', 'registry.local:5000', 'robot')]);
    const r = await resolveCredentials(
      IMAGE,
      [
        { namespace: 'c', names: ['missing'] },
        { namespace: 'd', names: ['ok'] },
      ],
      null,
      read,
    );
    assert.equal(r.error, undefined);
    assert.deepEqual(
      r.credentials.map((c) => c.username),
      ['robot'],
    );
    assert.deepEqual(read.calls, ['c/missing', 'd/ok']);
  });

  test('every pod failing and no fallback: "unavailable secret: …" with each error, anonymous', async () => {
    const r = await resolveCredentials(IMAGE, [{ namespace: 'c', names: ['gone'] }], null, reader([]));
    assert.deepEqual(r.credentials, []);
    assert.equal(r.error, 'unavailable secret: pull secret c/gone: secrets "gone" not found');
  });

  test('a malformed Secret counts as unreadable, and names the Secret, not its content', async () => {
    const bad: SecretLike = {
      metadata: { namespace: 'c', name: 'bad' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from('{"auths": 12, "secret": "hunter2"').toString('base64') },
    };
    const r = await resolveCredentials(IMAGE, [{ namespace: 'c', names: ['bad'] }], null, reader([bad]));
    assert.match(r.error ?? '', /^unavailable secret: pull secret c\/bad: /);
    assert.doesNotMatch(r.error ?? '', /hunter2/);
  });

  test('no pod: the fallback secret, or its error; no fallback: anonymous without error', async () => {
    const fallback = { namespace: 'kuik-system', name: 'fb' };
    const ok = await resolveCredentials(
      IMAGE,
      [],
      fallback,
      reader([dockerSecret('kuik-system', 'fb', 'registry.local:5000', 'fallback')]),
    );
    assert.deepEqual(
      ok.credentials.map((c) => c.username),
      ['fallback'],
    );
    const missing = await resolveCredentials(IMAGE, [], fallback, reader([]));
    assert.equal(
      missing.error,
      'fallback credential secret kuik-system/fb not found: secrets "fb" not found',
    );
    const none = await resolveCredentials(IMAGE, [], null, reader([]));
    assert.deepEqual(none, { credentials: [], from: 'anonymous' });
  });

  test('pods failing, then the fallback: the fallback decides (its error, or none)', async () => {
    const fallback = { namespace: 'kuik-system', name: 'fb' };
    const r = await resolveCredentials(
      IMAGE,
      [{ namespace: 'c', names: ['gone'] }],
      fallback,
      reader([dockerSecret('kuik-system', 'fb', 'registry.local:5000', 'fallback')]),
    );
    assert.equal(r.error, undefined);
    assert.equal(r.credentials[0]?.username, 'fallback');
  });

  test('secrets that hold no credential for this registry mean anonymous, not an error', async () => {
    const read = reader([dockerSecret('d', 'ok', 'elsewhere.example', 'robot')]);
    const r = await resolveCredentials(IMAGE, [{ namespace: 'd', names: ['ok'] }], null, read);
    assert.deepEqual(r.credentials, []);
    assert.equal(r.error, undefined);
  });
});

describe('verdict (§6.4 step 4, §6.5)', () => {
  test('a secret error and a 401/403 answer: UnavailableSecret with the secret error', () => {
    assert.deepEqual(
      verdict('unavailable secret: x', { outcome: 'InvalidAuth', message: 'authentication failed: y' }),
      {
        status: 'UnavailableSecret',
        lastError: 'unavailable secret: x',
      },
    );
  });

  test('a secret error but the anonymous probe got through: the probe decides', () => {
    assert.deepEqual(verdict('unavailable secret: x', { outcome: 'Available', message: '' }), {
      status: 'Available',
      lastError: undefined,
    });
    assert.deepEqual(
      verdict('unavailable secret: x', { outcome: 'NotFound', message: 'image not found: z' }),
      {
        status: 'NotFound',
        lastError: 'image not found: z',
      },
    );
  });

  test('each outcome is its status; lastError is the message, emptied on success', () => {
    for (const outcome of ['NotFound', 'Unreachable', 'InvalidAuth', 'QuotaExceeded'] as const) {
      assert.deepEqual(verdict(undefined, { outcome, message: `m ${outcome}` }), {
        status: outcome,
        lastError: `m ${outcome}`,
      });
    }
    assert.deepEqual(verdict(undefined, { outcome: 'Available', message: '' }), {
      status: 'Available',
      lastError: undefined,
    });
  });
});
