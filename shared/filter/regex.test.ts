import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LruCache } from '../lru.ts';
import { clearRegexCache, compileFullMatch, regexCacheSize } from './regex.ts';

function matches(pattern: string, input: string): boolean {
  const r = compileFullMatch(pattern);
  assert.ok(r.ok, `pattern ${pattern} should compile`);
  return r.value.matches(input);
}

describe('full-string matching (§3.1)', () => {
  test('a plain word matches only itself', () => {
    assert.equal(matches('nginx', 'nginx'), true);
    assert.equal(matches('nginx', 'my-nginx'), false);
    assert.equal(matches('nginx', 'nginx-extra'), false);
  });

  test('alternation is scoped by the wrapper: a|ab matches a and ab, not abc', () => {
    assert.equal(matches('a|ab', 'a'), true);
    assert.equal(matches('a|ab', 'ab'), true);
    assert.equal(matches('a|ab', 'abc'), false);
    assert.equal(matches('a|ab', 'xab'), false);
  });

  test('user anchors are tolerated', () => {
    assert.equal(matches('^nginx$', 'nginx'), true);
    assert.equal(matches('^nginx', 'nginx-extra'), false);
  });

  test('$ does not match before a trailing newline (Go one-line mode)', () => {
    assert.equal(matches('nginx', 'nginx\n'), false);
    assert.equal(matches('nginx$', 'nginx\n'), false);
  });

  test('. does not match a newline by default', () => {
    assert.equal(matches('a.b', 'a\nb'), false);
    assert.equal(matches('(?s)a.b', 'a\nb'), true);
  });

  test('image patterns match the normalized reference including the tag', () => {
    assert.equal(matches('docker\\.io/library/nginx:.+', 'docker.io/library/nginx:1.27'), true);
    assert.equal(matches('docker\\.io/library/nginx:.+', 'docker.io/library/nginx'), false);
  });
});

describe('Go RE2 syntax that JavaScript RegExp does not have', () => {
  test('inline flags (?i)', () => {
    assert.equal(matches('(?i)NGINX', 'nginx'), true);
  });

  test('flags set inside the pattern do not leak into the anchors', () => {
    assert.equal(matches('(?m)nginx', 'nginx\nx'), false);
  });

  test('POSIX classes [[:alpha:]]', () => {
    assert.equal(matches('[[:alpha:]]+', 'nginx'), true);
    assert.equal(matches('[[:alpha:]]+', 'nginx1'), false);
  });

  test('\\Q…\\E literal quoting', () => {
    assert.equal(matches('\\Qdocker.io\\E/.*', 'docker.io/library/nginx'), true);
    assert.equal(matches('\\Qdocker.io\\E/.*', 'dockerxio/library/nginx'), false);
  });

  test('Unicode classes \\pL', () => {
    assert.equal(matches('\\pL+', 'café'), true);
  });

  test('named groups (?P<name>…)', () => {
    assert.equal(matches('(?P<repo>[a-z]+):(?P<tag>.+)', 'nginx:1'), true);
  });
});

describe('compile errors', () => {
  test('an unclosed group is a typed error with RE2 wording', () => {
    const r = compileFullMatch('(nginx');
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'invalid-regex');
    assert.equal(r.error.pattern, '(nginx');
    assert.match(r.error.message, /missing closing \)/);
  });

  test('backreferences are not RE2 and fail to compile', () => {
    assert.equal(compileFullMatch('(a)\\1').ok, false);
  });

  test('lookahead is not RE2 and fails to compile', () => {
    assert.equal(compileFullMatch('(?=a)a').ok, false);
  });

  test('QUIRK fixed: a pattern only valid once wrapped (a)|(b) is rejected', () => {
    // kuik compiles ^(a)|(b)$, which is unanchored: "a…" or "…b" would match.
    const r = compileFullMatch('a)|(b');
    assert.ok(!r.ok);
    assert.match(r.error.message, /unexpected \)/);
  });

  test('repetition beyond RE2 limits is an error, not a hang', () => {
    assert.equal(compileFullMatch('a{1001}').ok, false);
  });
});

describe('linear-time matching', () => {
  test('catastrophic-backtracking patterns run in linear time', () => {
    const evil = ['(a+)+$', '(a|a)*b', '(a|aa)+c', '(.*a){12}'];
    const input = `${'a'.repeat(5000)}!`;
    const start = performance.now();
    for (const p of evil) matches(p, input);
    assert.ok(performance.now() - start < 2000, 'RE2 matching must not backtrack');
  });
});

describe('cache', () => {
  test('compiling the same pattern twice returns the cached result', () => {
    clearRegexCache();
    const a = compileFullMatch('cached-[0-9]+');
    const b = compileFullMatch('cached-[0-9]+');
    assert.equal(a, b);
    assert.equal(regexCacheSize(), 1);
  });

  test('failures are cached too', () => {
    clearRegexCache();
    const a = compileFullMatch('(');
    assert.equal(compileFullMatch('('), a);
  });

  test('the LRU evicts the least recently used entry beyond its bound', () => {
    const lru = new LruCache<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    assert.equal(lru.get('a'), 1); // a is now most recent
    lru.set('c', 3);
    assert.equal(lru.has('b'), false);
    assert.equal(lru.has('a'), true);
    assert.equal(lru.has('c'), true);
    assert.equal(lru.size, 2);
  });

  test('the LRU refuses a non-positive bound', () => {
    assert.throws(() => new LruCache(0), RangeError);
  });
});
