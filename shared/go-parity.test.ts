// Differential tests against kuik's own Go libraries. shared/testdata/go-oracle.json records what
// distribution/reference, k8s labels.Parse, time.ParseDuration and Go regexp (with kuik's `^(…)$`
// wrapper) answer for ~1000 inputs, hand-picked edge cases plus a seeded random mix; the
// generator is shared/testdata/go-oracle/. Every answer must be the same here, except the one
// regex quirk we fix on purpose.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { formatNanoseconds, parseGoDuration } from './duration.ts';
import { compileFullMatch } from './filter/regex.ts';
import { formatSelector, parseSelector } from './filter/selector.ts';
import { parseReference } from './image/reference.ts';

interface Oracle {
  refs: [string, string][];
  selectors: [string, string][];
  selectorMatches: { selector: string; labels: Record<string, string>; matches: boolean }[];
  durations: [string, string, string][];
  regexes: [string, string, string][];
}

const oracle = JSON.parse(
  readFileSync(new URL('./testdata/go-oracle.json', import.meta.url), 'utf8'),
) as Oracle;

/** Patterns kuik accepts only because its `^(` + p + `)$` wrapper balances them (QUIRK fixed). */
const WRAPPER_REPAIRED = new Set(['a)|(b']);

const show = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);

describe('parity with Go', () => {
  test(`ParseNormalizedNamed(x).String(): same result and same error message on ${oracle.refs.length} references`, () => {
    const diffs: string[] = [];
    for (const [input, want] of oracle.refs) {
      const r = parseReference(input);
      const got = r.ok ? `ok ${r.value.string}` : `err ${r.error.message}`;
      if (got !== want) diffs.push(`${show(input)}: go ${show(want)}, ts ${show(got)}`);
    }
    assert.deepEqual(diffs, []);
  });

  test(`labels.Parse(x).String(): same acceptance and same canonical form on ${oracle.selectors.length} selectors`, () => {
    const diffs: string[] = [];
    for (const [input, want] of oracle.selectors) {
      const r = parseSelector(input);
      const wantOk = want.startsWith('ok ');
      if (r.ok !== wantOk)
        diffs.push(`${show(input)}: go ${show(want)}, ts ${r.ok ? 'ok' : r.error.message}`);
      else if (r.ok && `ok ${formatSelector(r.value)}` !== want) {
        diffs.push(`${show(input)}: go ${show(want)}, ts ${show(formatSelector(r.value))}`);
      }
    }
    assert.deepEqual(diffs, []);
  });

  test(`Selector.Matches: same answer on ${oracle.selectorMatches.length} selector/label-set pairs`, () => {
    const diffs: string[] = [];
    for (const { selector, labels, matches } of oracle.selectorMatches) {
      const r = parseSelector(selector);
      assert.ok(r.ok, selector);
      if (r.value.matches(labels) !== matches)
        diffs.push(`${show(selector)} on ${JSON.stringify(labels)}: go ${matches}`);
    }
    assert.deepEqual(diffs, []);
  });

  test(`time.ParseDuration and Duration.String: same nanoseconds, text and errors on ${oracle.durations.length} durations`, () => {
    const diffs: string[] = [];
    for (const [input, want, wantString] of oracle.durations) {
      const r = parseGoDuration(input);
      const got = r.ok ? `ok ${r.value.nanoseconds}` : `err ${r.error.message}`;
      if (got !== want) diffs.push(`${show(input)}: go ${show(want)}, ts ${show(got)}`);
      else if (r.ok && formatNanoseconds(r.value.nanoseconds) !== wantString) {
        diffs.push(`${show(input)}: go String ${wantString}, ts ${formatNanoseconds(r.value.nanoseconds)}`);
      }
    }
    assert.deepEqual(diffs, []);
  });

  test(`Go regexp with kuik's wrapper: same compile result and match on ${oracle.regexes.length} pattern/input pairs`, () => {
    const diffs: string[] = [];
    for (const [pattern, input, want] of oracle.regexes) {
      if (WRAPPER_REPAIRED.has(pattern)) continue;
      const r = compileFullMatch(pattern);
      const wantOk = want.startsWith('ok ');
      if (r.ok !== wantOk)
        diffs.push(`${show(pattern)}: go ${show(want)}, ts ${r.ok ? 'ok' : r.error.message}`);
      else if (r.ok && `ok ${r.value.matches(input)}` !== want) {
        diffs.push(`${show(pattern)} on ${show(input)}: go ${want}`);
      }
    }
    assert.deepEqual(diffs, []);
  });

  test('the wrapper-repaired pattern that kuik accepts is rejected here (QUIRK fixed)', () => {
    for (const [pattern, , want] of oracle.regexes) {
      if (!WRAPPER_REPAIRED.has(pattern)) continue;
      assert.ok(want.startsWith('ok '), 'kuik accepts it');
      assert.equal(compileFullMatch(pattern).ok, false);
    }
  });
});
