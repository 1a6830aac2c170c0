// Go durations (`time.ParseDuration`), the format of every duration kuik reads: CR fields
// (`cleanup.retention`, `unusedImageExpiry`) and the operator config (`1s`, `3h`). Same grammar,
// same overflow limits, same error wording as Go, so a value kuik accepts is accepted here and a
// value kuik rejects is rejected with the message a kuik user has seen before.
//
//   [-+]? ( [0-9]* (.[0-9]*)? unit )+   units: ns us µs μs ms s m h      "0" alone needs no unit
//
// Results are in milliseconds (a JS number, fractional below 1 ms), plus the exact nanoseconds as
// a bigint for callers that need them.

import type { Result } from './result.ts';

export type DurationErrorCode = 'invalid' | 'missing-unit' | 'unknown-unit';

export interface DurationError {
  readonly code: DurationErrorCode;
  /** Go's wording, e.g. `time: unknown unit "x" in duration "1x"`. */
  readonly message: string;
}

export type DurationResult = Result<{ ms: number; nanoseconds: bigint }, DurationError>;

const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_ABS = 1n << 63n; // |int64 min|; positive results must stay ≤ MAX_ABS - 1

const utf8 = new TextEncoder();

/** Go's time.quote: ASCII kept (`"` and `\` escaped), anything else as UTF-8 `\xNN` bytes. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0x80 || cp < 0x20) {
      for (const b of utf8.encode(ch)) out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else {
      out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
    }
  }
  return `${out}"`;
}

function invalid(orig: string): DurationResult {
  return { ok: false, error: { code: 'invalid', message: `time: invalid duration ${quote(orig)}` } };
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Nanoseconds to milliseconds as a number (exact for every whole millisecond). */
export function nanosecondsToMs(ns: bigint): number {
  const whole = ns / 1_000_000n;
  const rest = ns % 1_000_000n;
  return Number(whole) + Number(rest) / 1e6;
}

/** Parse a Go duration string (`1h30m`, `500ms`, `-1.5h`, `0`). Never throws. */
export function parseGoDuration(orig: string): DurationResult {
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, value: { ms: 0, nanoseconds: 0n } };
  if (s === '') return invalid(orig);
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return invalid(orig);
    // Integer part. Go fails on int64 overflow of the digits themselves.
    let i = 0;
    while (isDigit(s[i])) i++;
    const intDigits = s.slice(0, i);
    const v = intDigits === '' ? 0n : BigInt(intDigits);
    if (v > MAX_ABS) return invalid(orig);
    s = s.slice(i);
    // Fraction: Go stops accumulating digits once they would overflow, then scales.
    let frac = 0n;
    let scale = 1n;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (isDigit(s[j])) {
        if (!overflow) {
          const next = frac * 10n + BigInt((s[j] as string).charCodeAt(0) - 48);
          if (frac > (MAX_ABS - 1n) / 10n || next > MAX_ABS) overflow = true;
          else {
            frac = next;
            scale *= 10n;
          }
        }
        j++;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (intDigits === '' && !post) return invalid(orig);
    let u = 0;
    while (u < s.length && s[u] !== '.' && !isDigit(s[u])) u++;
    if (u === 0) {
      return {
        ok: false,
        error: { code: 'missing-unit', message: `time: missing unit in duration ${quote(orig)}` },
      };
    }
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNITS[unitName];
    if (unit === undefined) {
      return {
        ok: false,
        error: {
          code: 'unknown-unit',
          message: `time: unknown unit ${quote(unitName)} in duration ${quote(orig)}`,
        },
      };
    }
    if (v > MAX_ABS / unit) return invalid(orig);
    let value = v * unit;
    if (frac > 0n) {
      // Go computes float64(f) * (float64(unit) / scale) and truncates; replicate with floats so
      // the last nanosecond agrees on long fractions.
      value += BigInt(Math.trunc(Number(frac) * (Number(unit) / Number(scale))));
      if (value > MAX_ABS) return invalid(orig);
    }
    total += value;
    if (total > MAX_ABS) return invalid(orig);
  }
  if (!neg && total > MAX_ABS - 1n) return invalid(orig);
  const nanoseconds = neg ? -total : total;
  return { ok: true, value: { ms: nanosecondsToMs(nanoseconds), nanoseconds } };
}

/**
 * A duration as the operator config (koanf + mapstructure) reads it: a Go duration string, or a
 * bare integer counting nanoseconds (`3600000000000` is one hour). Non-integer numbers are
 * rejected; kuik would silently truncate them to whole nanoseconds.
 */
export function parseDurationValue(value: string | number): DurationResult {
  if (typeof value === 'string') return parseGoDuration(value);
  if (!Number.isSafeInteger(value)) {
    return {
      ok: false,
      error: {
        code: 'invalid',
        message: `${value} is not a whole number of nanoseconds; write a duration such as "1s" or "500ms"`,
      },
    };
  }
  const ns = BigInt(value);
  return { ok: true, value: { ms: nanosecondsToMs(ns), nanoseconds: ns } };
}

/** Go's Duration.String() for a number of milliseconds: `1h30m0s`, `500ms`, `1.5s`, `0s`. */
export function formatGoDuration(ms: number): string {
  return formatNanoseconds(BigInt(Math.round(ms * 1e6)));
}

/** Go's Duration.String() for an exact number of nanoseconds. */
export function formatNanoseconds(d: bigint): string {
  if (d === 0n) return '0s';
  const neg = d < 0n;
  let u = neg ? -d : d;
  let out: string;
  if (u < 1_000_000_000n) {
    // Sub-second: the largest unit that keeps an integer part.
    let unit: string;
    let div: bigint;
    if (u < 1_000n) {
      return `${neg ? '-' : ''}${u}ns`;
    }
    if (u < 1_000_000n) {
      unit = 'µs';
      div = 1_000n;
    } else {
      unit = 'ms';
      div = 1_000_000n;
    }
    out = fractional(u, div) + unit;
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    out = `${fractional(u, 1_000_000_000n)}s`;
    if (h > 0n) out = `${h}h${m}m${out}`;
    else if (m > 0n) out = `${m}m${out}`;
  }
  return (neg ? '-' : '') + out;
}

/** `value / div` with the fraction's trailing zeros dropped, as Go prints it. */
function fractional(value: bigint, div: bigint): string {
  const whole = value / div;
  const rest = value % div;
  if (rest === 0n) return `${whole}`;
  const width = div.toString().length - 1;
  const digits = rest.toString().padStart(width, '0').replace(/0+$/, '');
  return `${whole}.${digits}`;
}
