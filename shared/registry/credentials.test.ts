import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseReference } from '../image/reference.ts';
import {
  buildKeyring,
  credentialsForImage,
  type DockerKeyring,
  globToRegExp,
  isDockerHubImage,
  keyringKey,
  lookupCredentials,
  type SecretLike,
} from './credentials.ts';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const auth = (user: string, pass: string): string => b64(`${user}:${pass}`);

function dockerConfigJson(name: string, auths: Record<string, unknown>, namespace = 'app'): SecretLike {
  return {
    metadata: { name, namespace },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
  };
}

function dockercfg(name: string, entries: Record<string, unknown>): SecretLike {
  return {
    metadata: { name, namespace: 'app' },
    type: 'kubernetes.io/dockercfg',
    data: { '.dockercfg': b64(JSON.stringify(entries)) },
  };
}

function keyring(secrets: SecretLike[]): DockerKeyring {
  const r = buildKeyring(secrets);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
}

/** usernames of the credentials found for `image`, in order. */
function users(secrets: SecretLike[], image: string): string[] {
  return lookupCredentials(keyring(secrets), image).map((c) => c.username);
}

describe('accepted Secrets (§2.8 step 1)', () => {
  test('a dockerconfigjson Secret is read from its base64 data', () => {
    const s = dockerConfigJson('pull', { 'quay.io': { auth: auth('alice', 'pw') } });
    const [c] = lookupCredentials(keyring([s]), 'quay.io/team/app');
    assert.deepEqual(c, {
      username: 'alice',
      password: 'pw',
      registry: 'quay.io',
      source: { namespace: 'app', name: 'pull' },
    });
  });

  test('a legacy dockercfg Secret is the map itself', () => {
    assert.deepEqual(
      users([dockercfg('old', { 'quay.io': { username: 'bob', password: 'x' } })], 'quay.io/a/b'),
      ['bob'],
    );
  });

  test('other Secret types are ignored', () => {
    const opaque: SecretLike = {
      metadata: { name: 'o' },
      type: 'Opaque',
      data: { '.dockerconfigjson': 'garbage!' },
    };
    assert.deepEqual(users([opaque], 'quay.io/a/b'), []);
  });

  test('a dockerconfigjson Secret with an empty or missing key is ignored', () => {
    const empty: SecretLike = {
      metadata: { name: 'e' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': '' },
    };
    const missing: SecretLike = {
      metadata: { name: 'm' },
      type: 'kubernetes.io/dockerconfigjson',
      data: null,
    };
    assert.ok(buildKeyring([empty, missing]).ok);
  });

  test('a type and key that do not go together are ignored (dockercfg key on a dockerconfigjson Secret)', () => {
    const s: SecretLike = {
      metadata: { name: 'x' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockercfg': b64('{"quay.io": {"username": "u"}}') },
    };
    assert.deepEqual(users([s], 'quay.io/a/b'), []);
  });

  test('auth overrides username and password', () => {
    const s = dockerConfigJson('p', {
      'quay.io': { username: 'ignored', password: 'ignored', auth: auth('real', 'secret') },
    });
    const [c] = lookupCredentials(keyring([s]), 'quay.io/a/b');
    assert.equal(c?.username, 'real');
    assert.equal(c?.password, 'secret');
  });

  test('auth may be unpadded base64', () => {
    const padded = auth('ab', 'c'); // "ab:c" → YWI6Yw==
    assert.ok(padded.endsWith('='));
    const s = dockerConfigJson('p', { 'quay.io': { auth: padded.replace(/=+$/, '') } });
    assert.deepEqual(users([s], 'quay.io/a/b'), ['ab']);
  });

  test('a password may contain colons: only the first one splits', () => {
    const s = dockerConfigJson('p', { 'quay.io': { auth: auth('u', 'p:a:s:s') } });
    assert.equal(lookupCredentials(keyring([s]), 'quay.io/a/b')[0]?.password, 'p:a:s:s');
  });

  test('field names match case-insensitively, as Go decodes JSON', () => {
    const s: SecretLike = {
      metadata: { name: 'p' },
      type: 'kubernetes.io/dockerconfigjson',
      data: {
        '.dockerconfigjson': b64(JSON.stringify({ Auths: { 'quay.io': { Username: 'U', Password: 'P' } } })),
      },
    };
    assert.deepEqual(users([s], 'quay.io/a/b'), ['U']);
  });

  test('identity tokens, registry tokens, email and HttpHeaders are not read', () => {
    const s = dockerConfigJson('p', { 'quay.io': { identitytoken: 'tok', email: 'e@x', username: 'u' } });
    const [c] = lookupCredentials(keyring([s]), 'quay.io/a/b');
    assert.deepEqual(Object.keys(c ?? {}).sort(), ['password', 'registry', 'source', 'username']);
  });

  test('a null entry is an empty credential, as in Go', () => {
    const s = dockerConfigJson('p', { 'quay.io': null });
    assert.deepEqual(users([s], 'quay.io/a/b'), ['']);
  });
});

describe('malformed Secrets fail the lookup with a typed error that names the Secret and no value', () => {
  const SECRET_VALUE = 'hunter2-very-secret';

  function failure(s: SecretLike) {
    const r = credentialsForImage([s], 'quay.io/a/b');
    assert.ok(!r.ok, 'expected an error');
    assert.ok(!r.error.message.includes(SECRET_VALUE), 'the message must not leak the secret');
    assert.deepEqual(r.error.secret, { namespace: 'app', name: 'broken' });
    assert.match(r.error.message, /pull secret app\/broken: /);
    return r.error;
  }

  test('malformed JSON', () => {
    const s: SecretLike = {
      metadata: { name: 'broken', namespace: 'app' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64(`{"auths": {"quay.io": {"password": "${SECRET_VALUE}"`) },
    };
    const e = failure(s);
    assert.equal(e.code, 'invalid-json');
    assert.equal(e.message, 'pull secret app/broken: .dockerconfigjson is not valid JSON');
  });

  test('data that is not base64', () => {
    const s: SecretLike = {
      metadata: { name: 'broken', namespace: 'app' },
      type: 'kubernetes.io/dockercfg',
      data: { '.dockercfg': `${SECRET_VALUE}!!` },
    };
    assert.equal(failure(s).code, 'invalid-base64');
  });

  test('an auth field that is not base64(username:password)', () => {
    assert.equal(
      failure(dockerConfigJson('broken', { 'quay.io': { auth: b64(SECRET_VALUE) } })).code,
      'invalid-auth',
    );
    assert.equal(failure(dockerConfigJson('broken', { 'quay.io': { auth: '%%%' } })).code, 'invalid-auth');
  });

  test('a JSON document of the wrong shape', () => {
    assert.equal(failure(dockerConfigJson('broken', { 'quay.io': [SECRET_VALUE] })).code, 'invalid-json');
    assert.equal(failure(dockerConfigJson('broken', { 'quay.io': { password: 42 } })).code, 'invalid-json');
    const s: SecretLike = {
      metadata: { name: 'broken', namespace: 'app' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64(JSON.stringify([SECRET_VALUE])) },
    };
    assert.equal(failure(s).code, 'invalid-json');
  });

  test('one malformed Secret fails the whole lookup, as in kuik', () => {
    const good = dockerConfigJson('good', { 'quay.io': { username: 'u' } });
    const bad: SecretLike = {
      metadata: { name: 'broken', namespace: 'app' },
      type: 'kubernetes.io/dockercfg',
      data: { '.dockercfg': b64('{') },
    };
    assert.equal(credentialsForImage([good, bad], 'quay.io/a/b').ok, false);
  });
});

describe('index keys (§2.8 step 2)', () => {
  const rows: [string, string | undefined][] = [
    ['quay.io', 'quay.io'],
    ['https://quay.io', 'quay.io'],
    ['http://quay.io/', 'quay.io'],
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['registry.example.com/v2/', 'registry.example.com'],
    ['registry.example.com/v2/team', 'registry.example.com/team'],
    ['registry.example.com/v1', 'registry.example.com/v1'],
    ['quay.io/team', 'quay.io/team'],
    ['user:pw@quay.io/team', 'quay.io/team'],
    ['reg.local:5000', 'reg.local:5000'],
    ['[::1]:5000', '[::1]:5000'],
    ['quay.io/team?x=1#f', 'quay.io/team'],
    ['reg.local:abc', undefined],
    ['bad host', undefined],
  ];
  for (const [location, key] of rows) {
    test(`${JSON.stringify(location)} is indexed as ${JSON.stringify(key)}`, () =>
      assert.equal(keyringKey(location), key));
  }

  test('entries whose key is not a URL are skipped, the rest kept', () => {
    const s = dockerConfigJson('p', { 'bad host': { username: 'x' }, 'quay.io': { username: 'ok' } });
    assert.deepEqual(keyring([s]).index, ['quay.io']);
  });
});

describe('lookup rules (§2.8 step 3)', () => {
  test('the most specific key comes first and every match is returned', () => {
    const s = dockerConfigJson('p', {
      'quay.io': { username: 'registry-wide' },
      'quay.io/team': { username: 'team' },
      'quay.io/team/app': { username: 'app' },
      'quay.io/other': { username: 'other' },
    });
    assert.deepEqual(users([s], 'quay.io/team/app'), ['app', 'team', 'registry-wide']);
  });

  test('credentials of several Secrets for the same key are all returned, in Secret order', () => {
    const a = dockerConfigJson('a', { 'quay.io': { username: 'first' } });
    const b = dockerConfigJson('b', { 'https://quay.io/v1/': { username: 'second' } });
    assert.deepEqual(users([a, b], 'quay.io/x/y'), ['first', 'second']);
  });

  test('the key path is a plain string prefix of the image path (kubelet rule)', () => {
    const s = dockerConfigJson('p', { 'quay.io/te': { username: 'prefix' } });
    assert.deepEqual(users([s], 'quay.io/team/app'), ['prefix']);
  });

  test('a path key does not match another path', () => {
    const s = dockerConfigJson('p', { 'quay.io/team': { username: 't' } });
    assert.deepEqual(users([s], 'quay.io/other/app'), []);
  });

  test('a glob label matches one label only', () => {
    const s = dockerConfigJson('p', { '*.example.com': { username: 'glob' } });
    assert.deepEqual(users([s], 'eu.example.com/a/b'), ['glob']);
    assert.deepEqual(users([s], 'a.eu.example.com/a/b'), []);
    assert.deepEqual(users([s], 'example.com/a/b'), []);
  });

  test('glob character classes work per label', () => {
    const s = dockerConfigJson('p', { 'reg-[0-9].example.com': { username: 'g' } });
    assert.deepEqual(users([s], 'reg-3.example.com/a'), ['g']);
    assert.deepEqual(users([s], 'reg-x.example.com/a'), []);
  });

  test('a ? in a key starts a URL query, as in the kubelet, so it is not a glob there', () => {
    assert.equal(keyringKey('reg.exam?le.com'), 'reg.exam');
  });

  test('ports must be equal', () => {
    const s = dockerConfigJson('p', {
      'reg.local:5000': { username: 'p5000' },
      'reg.local': { username: 'noport' },
    });
    assert.deepEqual(users([s], 'reg.local:5000/a'), ['p5000']);
    assert.deepEqual(users([s], 'reg.local/a'), ['noport']);
    assert.deepEqual(users([s], 'reg.local:6000/a'), []);
  });

  test('hosts with dashes match (glob escaping)', () => {
    const s = dockerConfigJson('p', { 'my-registry.example.com': { username: 'dash' } });
    assert.deepEqual(users([s], 'my-registry.example.com/a/b'), ['dash']);
  });

  test('IPv6 hosts with ports', () => {
    const s = dockerConfigJson('p', { '[::1]:5000': { username: 'v6' } });
    assert.deepEqual(users([s], '[::1]:5000/foo'), ['v6']);
  });

  test('a parsed reference is looked up by its name, tag and digest ignored', () => {
    const s = dockerConfigJson('p', { 'quay.io/team': { username: 't' } });
    const r = parseReference(`quay.io/team/app:1@sha256:${'a'.repeat(64)}`);
    assert.ok(r.ok);
    assert.deepEqual(
      lookupCredentials(keyring([s]), r.value).map((c) => c.username),
      ['t'],
    );
  });

  test('no Secrets, no credentials (anonymous)', () => {
    assert.deepEqual(users([], 'quay.io/a/b'), []);
  });
});

describe('Docker Hub (QUIRK fixed: these credentials are really returned for docker.io images)', () => {
  const nginx = 'docker.io/library/nginx';

  test('the key docker login writes, https://index.docker.io/v1/, works', () => {
    assert.deepEqual(
      users([dockerConfigJson('p', { 'https://index.docker.io/v1/': { username: 'hub' } })], nginx),
      ['hub'],
    );
  });

  test('the key docker.io works', () => {
    assert.deepEqual(users([dockerConfigJson('p', { 'docker.io': { username: 'hub' } })], nginx), ['hub']);
  });

  test('the key index.docker.io works', () => {
    assert.deepEqual(users([dockerConfigJson('p', { 'index.docker.io': { username: 'hub' } })], nginx), [
      'hub',
    ]);
  });

  test('a user repository on Docker Hub gets them too', () => {
    assert.deepEqual(
      users([dockerConfigJson('p', { 'index.docker.io': { username: 'hub' } })], 'docker.io/bitnami/redis'),
      ['hub'],
    );
  });

  test('the index.docker.io fallback is used only when nothing else matched', () => {
    const s = dockerConfigJson('p', {
      'docker.io': { username: 'direct' },
      'https://index.docker.io/v1/': { username: 'fallback' },
    });
    assert.deepEqual(users([s], nginx), ['direct']);
  });

  test('Docker Hub credentials are not sent to other registries', () => {
    assert.deepEqual(
      users([dockerConfigJson('p', { 'https://index.docker.io/v1/': { username: 'hub' } })], 'quay.io/a/b'),
      [],
    );
  });

  test('isDockerHubImage follows the kubelet rule', () => {
    assert.equal(isDockerHubImage('docker.io/library/nginx'), true);
    assert.equal(isDockerHubImage('index.docker.io/library/nginx'), true);
    assert.equal(isDockerHubImage('library/nginx'), true);
    assert.equal(isDockerHubImage('nginx'), true);
    assert.equal(isDockerHubImage('quay.io/a/b'), false);
    assert.equal(isDockerHubImage('localhost:5000/a'), false);
    assert.equal(isDockerHubImage('/a'), false);
  });
});

describe('globToRegExp (filepath.Match)', () => {
  test('wildcards, classes and escapes', () => {
    assert.ok(globToRegExp('*')?.test('anything'));
    assert.ok(globToRegExp('a?c')?.test('abc'));
    assert.ok(globToRegExp('[^a-c]x')?.test('dx'));
    assert.equal(globToRegExp('[^a-c]x')?.test('bx'), false);
    assert.ok(globToRegExp('\\*')?.test('*'));
    assert.ok(globToRegExp('a.b')?.test('a.b'));
    assert.equal(globToRegExp('a.b')?.test('axb'), false);
  });

  test('malformed patterns are rejected (ErrBadPattern), so they match nothing', () => {
    for (const p of ['[', '[]', '[a', '[a-', '\\', '[z-a]', '[-]'])
      assert.equal(globToRegExp(p), undefined, p);
  });

  test('a key with a malformed glob label matches nothing', () => {
    assert.deepEqual(
      users([dockerConfigJson('p', { '[.example.com': { username: 'x' } })], 'a.example.com/b'),
      [],
    );
  });
});
