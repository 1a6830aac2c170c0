import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanJoin, cleanPath, hasLocationPrefix } from './path.ts';

describe('cleanPath (Go path.Clean)', () => {
  const rows: [string, string][] = [
    ['', '.'],
    ['a/b', 'a/b'],
    ['a//b', 'a/b'],
    ['a/b/', 'a/b'],
    ['/a/b/', '/a/b'],
    ['a/./b', 'a/b'],
    ['a/../b', 'b'],
    ['a/..', '.'],
    ['../a', '../a'],
    ['a/../../b', '../b'],
    ['/..', '/'],
    ['/../a', '/a'],
    ['//', '/'],
    ['.', '.'],
  ];
  for (const [input, want] of rows) {
    test(`${JSON.stringify(input)} cleans to ${JSON.stringify(want)}`, () =>
      assert.equal(cleanPath(input), want));
  }
});

describe('cleanJoin (Go path.Join)', () => {
  test('joins with single slashes and drops leading/trailing ones of inner parts', () => {
    assert.equal(
      cleanJoin('harbor.example.com', '/mirror', 'library/nginx:1.29'),
      'harbor.example.com/mirror/library/nginx:1.29',
    );
    assert.equal(
      cleanJoin('harbor.example.com', 'mirror/', 'library/nginx'),
      'harbor.example.com/mirror/library/nginx',
    );
  });

  test('ignores empty and undefined elements', () => {
    assert.equal(
      cleanJoin('harbor.example.com', '', 'prometheus/x:v1'),
      'harbor.example.com/prometheus/x:v1',
    );
    assert.equal(cleanJoin(undefined, 'a', undefined), 'a');
  });

  test('all-empty gives the empty string, not "."', () => {
    assert.equal(cleanJoin(), '');
    assert.equal(cleanJoin('', ''), '');
  });

  test('a rooted first element keeps its leading slash', () => {
    assert.equal(cleanJoin('', '/x', 'y'), '/x/y');
  });

  test('.. in a mirror path climbs over the registry, as in kuik', () => {
    assert.equal(cleanJoin('reg', '../x', 'lib/nginx'), 'x/lib/nginx');
  });

  test('tags and digests are not path elements', () => {
    assert.equal(
      cleanJoin('reg', 'p', 'library/nginx:1.27@sha256:abc'),
      'reg/p/library/nginx:1.27@sha256:abc',
    );
  });
});

describe('hasLocationPrefix (boundary-aware prefix)', () => {
  test('a registry prefix needs a slash after it', () => {
    assert.equal(hasLocationPrefix('docker.io/library/nginx', 'docker.io'), true);
    assert.equal(hasLocationPrefix('docker.io2/library/nginx', 'docker.io'), false);
  });

  test('a colon after a bare host is a port, so another registry', () => {
    assert.equal(hasLocationPrefix('localhost:5000/foo', 'localhost'), false);
  });

  test('after a path, a tag or digest separator is a boundary', () => {
    assert.equal(hasLocationPrefix('docker.io/thanosio/thanos:v1', 'docker.io/thanosio/thanos'), true);
    assert.equal(hasLocationPrefix('docker.io/thanosio/thanos@sha256:ab', 'docker.io/thanosio/thanos'), true);
  });

  test('a longer repository name is not under a shorter one', () => {
    assert.equal(hasLocationPrefix('reg/mirror2/library/nginx', 'reg/mirror'), false);
    assert.equal(hasLocationPrefix('docker.io/thanosio/thanos-extra:1', 'docker.io/thanosio/thanos'), false);
  });

  test('equality counts', () => {
    assert.equal(hasLocationPrefix('reg/mirror', 'reg/mirror'), true);
  });

  test('a prefix ending with a slash carries its own boundary', () => {
    assert.equal(hasLocationPrefix('docker.io/library/nginx', 'docker.io/'), true);
  });

  test('the empty prefix matches nothing', () => {
    assert.equal(hasLocationPrefix('docker.io/library/nginx', ''), false);
  });
});
