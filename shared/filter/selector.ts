// Kubernetes label-selector strings (docs/behaviour.md §3.4), as `k8s.io/apimachinery/pkg/labels.Parse` reads
// them: the same lexer (including its oddities: `===` lexes as `==` then `=`), the same grammar,
// the same key/value validation, the same matching. kuik applies these selectors to pod labels
// and, unchanged, to pod annotations; so an annotation with a free-form value can only be tested
// for presence (`key`, `!key`): its value is not a valid label value and cannot be written.
//
//   key               the key exists            !key            the key does not exist
//   key=v, key==v     the value is v            key!=v          absent, or the value is not v
//   key in (a,b)      the value is a or b       key notin (a,b) absent, or the value is neither
//   key>5, key<5      the value is an integer greater / less than 5 (absent: no match)
//   a=b,c!=d          comma: every requirement must hold (AND)
//   "" (empty)        matches everything (labels.Parse("") is Everything())

import { errorMessage } from '../errors.ts';
import { LruCache } from '../lru.ts';
import type { Result } from '../result.ts';

export type SelectorOperator = 'exists' | '!' | '=' | '==' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Sorted and deduplicated, as k8s stores them. Empty for exists / !. */
  readonly values: readonly string[];
}

export interface Selector {
  readonly source: string;
  /** Sorted by key (k8s sorts them for a deterministic String()). Empty = matches everything. */
  readonly requirements: readonly Requirement[];
  matches(set: Readonly<Record<string, string>> | null | undefined): boolean;
}

export interface SelectorError {
  readonly code: 'invalid-selector';
  readonly selector: string;
  /** k8s' wording, e.g. "unable to parse requirement: found 'KEY', expected: in, notin, =, ==, !=, gt, lt". */
  readonly message: string;
}

export type SelectorResult = Result<Selector, SelectorError>;

// --- validation (k8s.io/apimachinery/pkg/util/validation) ---

const QUALIFIED_NAME_MAX = 63;
const LABEL_VALUE_MAX = 63;
const DNS1123_SUBDOMAIN_MAX = 253;
const qualifiedNameRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const dns1123SubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** IsQualifiedName: `[prefix/]name`, prefix a DNS-1123 subdomain ≤ 253, name ≤ 63. */
export function validateLabelKey(key: string): string[] {
  const errs: string[] = [];
  const parts = key.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (prefix.length > DNS1123_SUBDOMAIN_MAX) {
        errs.push(`prefix part must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`);
      }
      if (!dns1123SubdomainRe.test(prefix)) {
        errs.push(
          "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        );
      }
    }
  } else {
    return [
      `a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > QUALIFIED_NAME_MAX) {
    errs.push(`name part must be no more than ${QUALIFIED_NAME_MAX} characters`);
  }
  if (!qualifiedNameRe.test(name)) errs.push(`name part ${QUALIFIED_NAME_MSG}`);
  return errs;
}

/** IsValidLabelValue: empty, or ≤ 63 alphanumerics plus `-_.`, alphanumeric at both ends. */
export function validateLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > LABEL_VALUE_MAX) errs.push(`must be no more than ${LABEL_VALUE_MAX} characters`);
  if (!labelValueRe.test(value)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    );
  }
  return errs;
}

// --- lexer (labels/selector.go) ---

type Token =
  | 'error'
  | 'eos'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '('
  | 'identifier';

const literalTokens: Readonly<Record<string, Token>> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};

interface Scanned {
  tok: Token;
  lit: string;
}

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean =>
  ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';

function lex(s: string): Scanned[] {
  const out: Scanned[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos] as string)) pos++;
    if (pos >= s.length) {
      out.push({ tok: 'eos', lit: '' });
      return out;
    }
    const ch = s[pos] as string;
    if (isSpecial(ch)) {
      // Longest run of special symbols that still forms a token: `===` → `==`, then `=`.
      let buffer = '';
      let last: Scanned | undefined;
      while (pos < s.length && isSpecial(s[pos] as string)) {
        buffer += s[pos];
        const t = literalTokens[buffer];
        if (t !== undefined) {
          last = { tok: t, lit: buffer };
          pos++;
        } else if (last !== undefined) {
          break;
        } else {
          pos++;
        }
      }
      if (last === undefined) {
        out.push({ tok: 'error', lit: `error expected: keyword found '${buffer}'` });
      } else {
        out.push(last);
      }
      continue;
    }
    let buffer = '';
    while (pos < s.length && !isSpecial(s[pos] as string) && !isWhitespace(s[pos] as string)) {
      buffer += s[pos];
      pos++;
    }
    out.push({ tok: literalTokens[buffer] ?? 'identifier', lit: buffer });
  }
}

// --- parser ---

type Context = 'keyAndOperator' | 'values';

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

class ParseError extends Error {}

class Parser {
  readonly #items: Scanned[];
  #pos = 0;

  constructor(items: Scanned[]) {
    this.#items = items;
  }

  #at(i: number, ctx: Context): Scanned {
    const item = this.#items[i] ?? { tok: 'eos', lit: '' };
    // `in` and `notin` are plain identifiers where a key or a value is expected.
    if (ctx === 'values' && (item.tok === 'in' || item.tok === 'notin'))
      return { tok: 'identifier', lit: item.lit };
    return item;
  }

  lookahead(ctx: Context): Scanned {
    return this.#at(this.#pos, ctx);
  }

  consume(ctx: Context): Scanned {
    const item = this.#at(this.#pos, ctx);
    this.#pos++;
    return item;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead('values');
      if (tok === 'identifier' || tok === '!') {
        let r: Requirement;
        try {
          r = this.parseRequirement();
        } catch (e) {
          throw new ParseError(`unable to parse requirement: ${errorMessage(e)}`);
        }
        reqs.push(r);
        const t = this.consume('values');
        if (t.tok === 'eos') return reqs;
        if (t.tok === ',') {
          const t2 = this.lookahead('values');
          if (t2.tok !== 'identifier' && t2.tok !== '!') {
            throw new ParseError(`found '${t2.lit}', expected: identifier after ','`);
          }
          continue;
        }
        throw new ParseError(`found '${t.lit}', expected: ',' or 'end of string'`);
      }
      if (tok === 'eos') return reqs;
      throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
    }
  }

  parseRequirement(): Requirement {
    let operator: SelectorOperator | undefined;
    let t = this.consume('values');
    if (t.tok === '!') {
      operator = '!';
      t = this.consume('values');
    }
    if (t.tok !== 'identifier') throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    checkKey(key);
    // `!key` is complete by itself; whatever follows must be `,` or the end (checked by parse()),
    // so `!key=v` fails with "found '=', expected: ',' or 'end of string'", as in k8s.
    if (operator === '!') return { key, operator, values: [] };
    const next = this.lookahead('values').tok;
    if (next === 'eos' || next === ',') return { key, operator: 'exists', values: [] };
    return this.parseBinary(key);
  }

  parseBinary(key: string): Requirement {
    const op = this.consume('keyAndOperator');
    let operator: SelectorOperator;
    switch (op.tok) {
      case 'in':
        operator = 'in';
        break;
      case 'notin':
        operator = 'notin';
        break;
      case '=':
        operator = '=';
        break;
      case '==':
        operator = '==';
        break;
      case '!=':
        operator = '!=';
        break;
      case '>':
        operator = 'gt';
        break;
      case '<':
        operator = 'lt';
        break;
      default:
        throw new Error(`found '${op.lit}', expected: ${BINARY_OPERATORS}`);
    }
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, values);
  }

  parseValues(): Set<string> {
    const open = this.consume('values');
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead('values');
    if (tok === 'identifier' || tok === ',') {
      const s = this.parseIdentifiersList();
      if (this.consume('values').tok !== ')') throw new Error(`found '${lit}', expected: ')'`);
      return s;
    }
    if (tok === ')') {
      this.consume('values');
      return new Set(['']);
    }
    throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
  }

  parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume('values');
      if (tok === 'identifier') {
        s.add(lit);
        const t2 = this.lookahead('values');
        if (t2.tok === ',') continue;
        if (t2.tok === ')') return s;
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        // `(,a)`, `(a,)` and `(a,,b)` carry empty values, as in k8s.
        if (s.size === 0) s.add('');
        const t2 = this.lookahead('values');
        if (t2.tok === ')') {
          s.add('');
          return s;
        }
        if (t2.tok === ',') {
          this.consume('values');
          s.add('');
        }
        continue;
      }
      throw new Error(`found '${lit}', expected: ',', or identifier`);
    }
  }

  parseExactValue(): Set<string> {
    const next = this.lookahead('values').tok;
    if (next === 'eos' || next === ',') return new Set(['']);
    const { tok, lit } = this.consume('values');
    if (tok === 'identifier') return new Set([lit]);
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

function checkKey(key: string): void {
  const errs = validateLabelKey(key);
  if (errs.length > 0) throw new Error(`Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, int64 range. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** k8s NewRequirement: value count per operator, integer values for gt/lt, label-value syntax. */
function newRequirement(key: string, operator: SelectorOperator, valueSet: Set<string>): Requirement {
  const values = [...valueSet].sort();
  const errs: string[] = [];
  if ((operator === 'in' || operator === 'notin') && values.length === 0) {
    errs.push("for 'in', 'notin' operators, values set can't be empty");
  }
  if ((operator === '=' || operator === '==' || operator === '!=') && values.length !== 1) {
    errs.push('exact-match compatibility requires one single value');
  }
  if (operator === 'gt' || operator === 'lt') {
    if (values.length !== 1) errs.push("for 'Gt', 'Lt' operators, exactly one value is required");
    for (const v of values) {
      if (parseInt64(v) === undefined) errs.push(`for 'Gt', 'Lt' operators, the value must be an integer`);
    }
  }
  for (const v of values) {
    const vErrs = validateLabelValue(v);
    if (vErrs.length > 0)
      errs.push(`values[${key}]: Invalid value: ${JSON.stringify(v)}: ${vErrs.join('; ')}`);
  }
  if (errs.length > 0) throw new Error(errs.length === 1 ? (errs[0] as string) : `[${errs.join(', ')}]`);
  return { key, operator, values };
}

/** k8s Requirement.Matches. `!=` and `notin` match when the key is absent. */
export function requirementMatches(r: Requirement, set: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(set, r.key);
  const value = has ? set[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value as string);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has) return false;
      const actual = parseInt64(value as string);
      const bound = parseInt64(r.values[0] ?? '');
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

const OPERATOR_TEXT: Readonly<Record<SelectorOperator, string>> = {
  exists: '',
  '!': '',
  '=': '=',
  '==': '==',
  '!=': '!=',
  in: ' in ',
  notin: ' notin ',
  gt: '>',
  lt: '<',
};

/** k8s Requirement.String(): `key`, `!key`, `key=v`, `key in (a,b)`, `key>5`… */
export function formatRequirement(r: Requirement): string {
  if (r.operator === 'exists') return r.key;
  if (r.operator === '!') return `!${r.key}`;
  const values = r.values.join(',');
  const body = r.operator === 'in' || r.operator === 'notin' ? `(${values})` : values;
  return r.key + OPERATOR_TEXT[r.operator] + body;
}

/** k8s Selector.String(): the requirements, sorted by key, joined with `,`. */
export function formatSelector(selector: Pick<Selector, 'requirements'>): string {
  return selector.requirements.map(formatRequirement).join(',');
}

function parseUncached(source: string): SelectorResult {
  let requirements: Requirement[];
  try {
    requirements = new Parser(lex(source)).parse();
  } catch (e) {
    return {
      ok: false,
      error: { code: 'invalid-selector', selector: source, message: errorMessage(e) },
    };
  }
  // k8s sorts requirements by key (stable) so equal selectors print the same.
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const frozen = Object.freeze(requirements);
  return {
    ok: true,
    value: {
      source,
      requirements: frozen,
      matches: (set) => {
        const labels = set ?? {};
        return frozen.every((r) => requirementMatches(r, labels));
      },
    },
  };
}

const cache = new LruCache<string, SelectorResult>(4096);

/**
 * Parse a selector string with `labels.Parse` semantics. Never throws; results are cached.
 * `""` parses to a selector that matches everything.
 */
export function parseSelector(source: string): SelectorResult {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const result = parseUncached(source);
  cache.set(source, result);
  return result;
}
