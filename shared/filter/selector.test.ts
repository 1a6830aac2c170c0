import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSelector, type Selector, validateLabelKey, validateLabelValue } from './selector.ts';

function sel(s: string): Selector {
  const r = parseSelector(s);
  assert.ok(r.ok, `selector ${JSON.stringify(s)} should parse: ${r.ok ? '' : r.error.message}`);
  return r.value;
}

function parseError(s: string): string {
  const r = parseSelector(s);
  assert.ok(!r.ok, `selector ${JSON.stringify(s)} should fail`);
  assert.equal(r.error.code, 'invalid-selector');
  assert.equal(r.error.selector, s);
  return r.error.message;
}

describe('operators', () => {
  test('key: presence', () => {
    assert.equal(sel('app').matches({ app: '' }), true);
    assert.equal(sel('app').matches({ other: 'x' }), false);
  });

  test('!key: absence', () => {
    assert.equal(sel('!app').matches({}), true);
    assert.equal(sel('!app').matches({ app: 'x' }), false);
  });

  test('key=value and key==value: equality', () => {
    for (const s of ['app=foo', 'app==foo']) {
      assert.equal(sel(s).matches({ app: 'foo' }), true);
      assert.equal(sel(s).matches({ app: 'bar' }), false);
      assert.equal(sel(s).matches({}), false);
    }
  });

  test('key!=value matches when the key is absent (k8s semantics)', () => {
    assert.equal(sel('app!=foo').matches({ app: 'bar' }), true);
    assert.equal(sel('app!=foo').matches({ app: 'foo' }), false);
    assert.equal(sel('app!=foo').matches({}), true);
  });

  test('key in (a,b)', () => {
    const s = sel('tier in (frontend,backend)');
    assert.equal(s.matches({ tier: 'backend' }), true);
    assert.equal(s.matches({ tier: 'db' }), false);
    assert.equal(s.matches({}), false);
  });

  test('key notin (a,b) matches when the key is absent', () => {
    const s = sel('tier notin (frontend,backend)');
    assert.equal(s.matches({ tier: 'db' }), true);
    assert.equal(s.matches({ tier: 'frontend' }), false);
    assert.equal(s.matches({}), true);
  });

  test('key>n and key<n compare integers; absent or non-integer values never match', () => {
    assert.equal(sel('replicas>2').matches({ replicas: '3' }), true);
    assert.equal(sel('replicas>2').matches({ replicas: '2' }), false);
    assert.equal(sel('replicas<2').matches({ replicas: '-5' }), true);
    assert.equal(sel('replicas>2').matches({ replicas: 'many' }), false);
    assert.equal(sel('replicas>2').matches({}), false);
  });

  test('comma is AND', () => {
    const s = sel('app=a,tier=b');
    assert.equal(s.matches({ app: 'a', tier: 'b' }), true);
    assert.equal(s.matches({ app: 'a', tier: 'c' }), false);
  });

  test('the empty selector matches everything (labels.Parse("") is Everything())', () => {
    const s = sel('');
    assert.equal(s.requirements.length, 0);
    assert.equal(s.matches({}), true);
    assert.equal(s.matches(undefined), true);
    assert.equal(sel('   ').matches({ a: 'b' }), true);
  });

  test('a pod without labels is an empty set', () => {
    assert.equal(sel('app').matches(undefined), false);
    assert.equal(sel('!app').matches(null), true);
  });

  test('keys are case-sensitive and values compared exactly', () => {
    assert.equal(sel('App=foo').matches({ app: 'foo' }), false);
    assert.equal(sel('app=Foo').matches({ app: 'foo' }), false);
  });
});

describe('lexing and whitespace', () => {
  test('whitespace around operators and values is ignored', () => {
    const s = sel('  app = foo ,  tier in ( a , b )  ');
    assert.equal(s.matches({ app: 'foo', tier: 'b' }), true);
  });

  test('in and notin are plain words where a key or value is expected', () => {
    assert.equal(sel('in=in').matches({ in: 'in' }), true);
    assert.equal(sel('x in (in,notin)').matches({ x: 'notin' }), true);
  });

  test('requirements are sorted by key', () => {
    assert.deepEqual(
      sel('b=1,a=2').requirements.map((r) => r.key),
      ['a', 'b'],
    );
  });

  test('in-list values are deduplicated and sorted', () => {
    assert.deepEqual(sel('x in (b,a,b)').requirements[0]?.values, ['a', 'b']);
  });

  test('an empty value after = means the empty string', () => {
    assert.equal(sel('app=').matches({ app: '' }), true);
    assert.equal(sel('app=').matches({ app: 'x' }), false);
  });

  test('() and (,) hold the empty value', () => {
    assert.equal(sel('app in ()').matches({ app: '' }), true);
    assert.equal(sel('app in (,a)').matches({ app: '' }), true);
    assert.equal(sel('app in (a,)').matches({ app: '' }), true);
  });

  test('qualified keys with a DNS prefix', () => {
    assert.equal(sel('cnpg.io/podRole=instance').matches({ 'cnpg.io/podRole': 'instance' }), true);
    assert.equal(sel('kube-image-keeper.enix.io/image-caching-policy=ignore').matches({}), false);
  });
});

describe('errors (labels.Parse rejects, so kuik does too)', () => {
  test('=== fails: lexed as == then =', () => {
    assert.match(parseError('==='), /expected: !, identifier, or 'end of string'/);
  });

  test('BAD KEY=value fails: KEY is not an operator', () => {
    assert.match(parseError('BAD KEY=value'), /found 'KEY', expected: in, notin, =, ==, !=, gt, lt/);
  });

  test('a key that is not a qualified name', () => {
    assert.match(parseError('-app=foo'), /name part must consist of alphanumeric characters/);
    assert.match(parseError('a/b/c=foo'), /qualified name/);
    assert.match(parseError('/app=foo'), /prefix part must be non-empty/);
    assert.match(parseError('Example.COM/app=foo'), /prefix part/);
  });

  test('a key name longer than 63 characters', () => {
    assert.match(parseError(`${'k'.repeat(64)}=v`), /no more than 63 characters/);
    assert.ok(parseSelector(`${'k'.repeat(63)}=v`).ok);
  });

  test('a key prefix longer than 253 characters', () => {
    const longPrefix = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
    assert.equal(longPrefix.length, 255);
    assert.match(parseError(`${longPrefix}/k=v`), /no more than 253 characters/);
  });

  test('a value longer than 63 characters', () => {
    assert.match(parseError(`app=${'v'.repeat(64)}`), /no more than 63 characters/);
  });

  test('a value with characters outside alphanumerics and -_.', () => {
    assert.match(parseError('app=foo/bar'), /a valid label must be an empty string/);
    assert.match(parseError('app=-foo'), /a valid label/);
  });

  test('!key cannot take a value', () => {
    assert.match(parseError('!app=foo'), /found '=', expected: ',' or 'end of string'/);
  });

  test('a trailing comma', () => {
    assert.match(parseError('app=foo,'), /expected: identifier after ','/);
  });

  test('a missing parenthesis', () => {
    assert.ok(!parseSelector('tier in (a,b').ok);
    assert.ok(!parseSelector('tier in a,b').ok);
  });

  test('gt needs an integer', () => {
    assert.match(parseError('replicas>many'), /must be an integer/);
  });

  test('a lone operator', () => {
    assert.ok(!parseSelector('=foo').ok);
    assert.ok(!parseSelector('!').ok);
  });

  test('an unknown run of symbols', () => {
    assert.ok(!parseSelector('app=>foo').ok);
  });

  test('errors never throw and are cached', () => {
    const a = parseSelector('===');
    assert.equal(parseSelector('==='), a);
  });
});

describe('key and value validation helpers', () => {
  test('validateLabelKey accepts k8s keys and rejects bad ones', () => {
    assert.deepEqual(validateLabelKey('app.kubernetes.io/name'), []);
    assert.deepEqual(validateLabelKey('MyName'), []);
    assert.notDeepEqual(validateLabelKey('my key'), []);
    assert.notDeepEqual(validateLabelKey(''), []);
  });

  test('validateLabelValue accepts empty and rejects spaces', () => {
    assert.deepEqual(validateLabelValue(''), []);
    assert.deepEqual(validateLabelValue('v1.2_3-x'), []);
    assert.notDeepEqual(validateLabelValue('a b'), []);
  });
});
