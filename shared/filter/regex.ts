// Go RE2 regular expressions, matched in JavaScript (docs/behaviour.md §3.1).
//
// kuik users write patterns for Go's `regexp` (RE2 syntax, leftmost-first, no backreferences,
// no lookaround). JavaScript's RegExp is a different dialect (`(?i)` is a syntax error there,
// `\Q…\E` and `[[:alpha:]]` do not exist, `\d` and `$` differ in corners) and it backtracks, so a
// user pattern like `(a+)+$` can pin a CPU for minutes on a 30-character image name (ReDoS) —
// fatal in an admission webhook. We therefore use `re2js`, a pure-JavaScript port of RE2 with
// Go regexp's syntax and semantics: the same patterns compile and fail, and matching runs in
// time linear in the input whatever the pattern (automata, no backtracking). It needs no native
// build (unlike the `re2` bindings), so the function images stay plain Node.
//
// Full-string match: kuik compiles `^(` + p + `)$`. We compile `^(?:` + p + `)$`: the group is
// only there to scope alternation (`a|ab` must not become `^a|ab$`), and capture numbering is
// irrelevant because we only ask "does it match" and RE2 has no backreferences. We also compile
// the user's pattern on its own first, so a pattern that is only valid once wrapped
// (`a)|(b`, which kuik turns into the unanchored `^(a)|(b)$`) is rejected, as the CRD's CEL check
// already rejects it for imageFilter (QUIRK fixed, docs/quirks.md).

import { RE2JS } from 're2js';
import { errorMessage } from '../errors.ts';
import { LruCache } from '../lru.ts';
import type { Result } from '../result.ts';

export interface RegexError {
  readonly code: 'invalid-regex';
  readonly pattern: string;
  /** e.g. "error parsing regexp: missing closing ): `(nginx`" (RE2's wording, as in kuik's events). */
  readonly message: string;
}

/** A compiled, anchored pattern. */
export interface FullMatchRegex {
  readonly pattern: string;
  /** True iff the whole of `input` matches the pattern. */
  matches(input: string): boolean;
}

export type RegexResult = Result<FullMatchRegex, RegexError>;

/** Distinct patterns kept compiled; CRs hold at most 16+16 patterns each, so this covers ~100 CRs. */
export const REGEX_CACHE_SIZE = 4096;

/** Inputs whose answer each compiled pattern remembers. */
export const MATCH_CACHE_SIZE = 512;

const cache = new LruCache<string, RegexResult>(REGEX_CACHE_SIZE);

function compileUncached(pattern: string): RegexResult {
  try {
    // Validate the pattern alone: the wrapper must not be able to repair an unbalanced `)`.
    RE2JS.compile(pattern);
    const re = RE2JS.compile(`^(?:${pattern})$`);
    // The same few image references are matched against the same patterns on every admission,
    // and re2js's matcher dominates the router's CPU profile: remember recent answers.
    const seen = new LruCache<string, boolean>(MATCH_CACHE_SIZE);
    const matches = (input: string) => {
      const hit = seen.get(input);
      if (hit !== undefined) return hit;
      const result = re.testExact(input);
      seen.set(input, result);
      return result;
    };
    return { ok: true, value: { pattern, matches } };
  } catch (e) {
    const message = errorMessage(e);
    return { ok: false, error: { code: 'invalid-regex', pattern, message } };
  }
}

/**
 * Compile `pattern` (Go RE2 syntax) for anchored full-string matching, as kuik's filters do:
 * `nginx` matches `nginx` only, `a|ab` matches `a` and `ab` but not `abc`, `^nginx$` still works.
 * Results, including failures, are cached (bounded LRU). Never throws.
 */
export function compileFullMatch(pattern: string): RegexResult {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const result = compileUncached(pattern);
  cache.set(pattern, result);
  return result;
}

/** Drop every cached compilation (tests; never needed in production). */
export function clearRegexCache(): void {
  cache.clear();
}

/** Number of cached compilations (tests and metrics). */
export function regexCacheSize(): number {
  return cache.size;
}
