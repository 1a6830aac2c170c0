import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChallenges, pickChallenge, scopeString, scopeStrings } from './challenge.ts';

test("Docker Hub's bearer challenge: realm, service and a scope with commas", () => {
  const [c, ...rest] = parseChallenges(
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"',
  );
  assert.equal(rest.length, 0);
  assert.deepEqual(c, {
    scheme: 'bearer',
    params: {
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/nginx:pull,push',
    },
  });
});

test('a basic challenge (htpasswd registry)', () => {
  assert.deepEqual(parseChallenges('Basic realm="kuik-test"'), [
    { scheme: 'basic', params: { realm: 'kuik-test' } },
  ]);
});

test('several challenges in one header, spaces around commas and equals, unquoted values', () => {
  const cs = parseChallenges(
    'Basic realm="a b" , Bearer realm = https://t.example/token , service=svc, error=insufficient_scope',
  );
  assert.deepEqual(cs, [
    { scheme: 'basic', params: { realm: 'a b' } },
    {
      scheme: 'bearer',
      params: { realm: 'https://t.example/token', service: 'svc', error: 'insufficient_scope' },
    },
  ]);
  assert.equal(pickChallenge(cs)?.scheme, 'bearer');
});

test('scheme and parameter names are case-insensitive; quoted escapes are unescaped', () => {
  assert.deepEqual(parseChallenges('BEARER Realm="https://x/\\"t\\"",SERVICE="s"'), [
    { scheme: 'bearer', params: { realm: 'https://x/"t"', service: 's' } },
  ]);
});

test('several header lines are one list of challenges', () => {
  assert.deepEqual(
    parseChallenges(['Basic realm="r"', 'Bearer realm="https://t"']).map((c) => c.scheme),
    ['basic', 'bearer'],
  );
});

test('garbage does not throw and yields no usable challenge', () => {
  assert.equal(pickChallenge(parseChallenges(',,, ="x"')), undefined);
  assert.deepEqual(parseChallenges(undefined), []);
  assert.deepEqual(parseChallenges('Negotiate'), [{ scheme: 'negotiate', params: {} }]);
  assert.equal(pickChallenge(parseChallenges('Negotiate')), undefined);
});

test('scopes: fixed action order, merged per repository, sorted, so equal needs share a token', () => {
  assert.equal(scopeString({ repository: 'a/b', actions: ['push', 'pull'] }), 'repository:a/b:pull,push');
  assert.deepEqual(
    scopeStrings([
      { repository: 'z/dst', actions: ['push'] },
      { repository: 'a/src', actions: ['pull'] },
      { repository: 'z/dst', actions: ['pull'] },
    ]),
    ['repository:a/src:pull', 'repository:z/dst:pull,push'],
  );
});
