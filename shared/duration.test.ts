import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatGoDuration, formatNanoseconds, parseDurationValue, parseGoDuration } from './duration.ts';

function ms(s: string): number {
  const r = parseGoDuration(s);
  assert.ok(r.ok, `${s}: ${r.ok ? '' : r.error.message}`);
  return r.value.ms;
}

describe('parseGoDuration', () => {
  test('compound durations add up: 1h30m is 5 400 000 ms', () => assert.equal(ms('1h30m'), 5_400_000));
  test('milliseconds: 500ms', () => assert.equal(ms('500ms'), 500));
  test('negative fractional hours: -1.5h', () => assert.equal(ms('-1.5h'), -5_400_000));
  test('a bare 0 needs no unit', () => {
    assert.equal(ms('0'), 0);
    assert.equal(ms('-0'), 0);
    assert.equal(ms('+0'), 0);
  });
  test('every unit, including both micro signs', () => {
    assert.equal(ms('1ns'), 0.000001);
    assert.equal(ms('1us'), 0.001);
    assert.equal(ms('1µs'), 0.001);
    assert.equal(ms('1μs'), 0.001);
    assert.equal(ms('1s'), 1000);
    assert.equal(ms('1m'), 60_000);
    assert.equal(ms('24h'), 86_400_000);
  });
  test('fractions with nothing before or after the dot', () => {
    assert.equal(ms('.5s'), 500);
    assert.equal(ms('5.s'), 5000);
  });
  test('exact nanoseconds are kept as a bigint', () => {
    const r = parseGoDuration('1h1m1s1ms1us1ns');
    assert.ok(r.ok);
    assert.equal(r.value.nanoseconds, 3_661_001_001_001n);
  });
  test('the int64 bounds are accepted and one past them rejected', () => {
    assert.ok(parseGoDuration('9223372036854775807ns').ok);
    assert.ok(parseGoDuration('-9223372036854775808ns').ok);
    assert.equal(parseGoDuration('9223372036854775808ns').ok, false);
    assert.equal(parseGoDuration('2562048h').ok, false);
  });

  const errors: [string, string, string][] = [
    ['', 'invalid', 'time: invalid duration ""'],
    ['1', 'missing-unit', 'time: missing unit in duration "1"'],
    ['1x', 'unknown-unit', 'time: unknown unit "x" in duration "1x"'],
    ['1 h', 'unknown-unit', 'time: unknown unit " h" in duration "1 h"'],
    [' 1h', 'invalid', 'time: invalid duration " 1h"'],
    ['h', 'invalid', 'time: invalid duration "h"'],
    ['.s', 'invalid', 'time: invalid duration ".s"'],
    ['--5m', 'invalid', 'time: invalid duration "--5m"'],
    ['1e3s', 'unknown-unit', 'time: unknown unit "e" in duration "1e3s"'],
    ['1.5µ', 'unknown-unit', 'time: unknown unit "\\xc2\\xb5" in duration "1.5\\xc2\\xb5"'],
  ];
  for (const [input, code, message] of errors) {
    test(`${JSON.stringify(input)} fails with ${code} and Go's message`, () => {
      const r = parseGoDuration(input);
      assert.ok(!r.ok);
      assert.equal(r.error.code, code);
      assert.equal(r.error.message, message);
    });
  }
});

describe('parseDurationValue (operator config)', () => {
  test('a bare integer counts nanoseconds, as koanf/mapstructure read it', () => {
    const r = parseDurationValue(3_600_000_000_000);
    assert.ok(r.ok);
    assert.equal(r.value.ms, 3_600_000);
  });
  test('a string is a Go duration', () => {
    const r = parseDurationValue('3h');
    assert.ok(r.ok);
    assert.equal(r.value.ms, 10_800_000);
  });
  test('a non-integer number is rejected instead of truncated', () => {
    const r = parseDurationValue(1.5);
    assert.ok(!r.ok);
    assert.match(r.error.message, /whole number of nanoseconds/);
  });
});

describe('formatting (Go Duration.String)', () => {
  const rows: [number, string][] = [
    [0, '0s'],
    [5_400_000, '1h30m0s'],
    [500, '500ms'],
    [1500, '1.5s'],
    [-5_400_000, '-1h30m0s'],
    [0.001, '1µs'],
    [0.000001, '1ns'],
    [60_000, '1m0s'],
  ];
  for (const [input, want] of rows) {
    test(`${input} ms prints as ${want}`, () => assert.equal(formatGoDuration(input), want));
  }
  test('formatNanoseconds is exact beyond 2^53', () => {
    assert.equal(formatNanoseconds(9_223_372_036_854_775_807n), '2562047h47m16.854775807s');
  });
});
