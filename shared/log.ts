// One JSON line per decision (pino). Secret-bearing fields are redacted at the logger, so a
// careless `log.info({ secret })` cannot leak a credential.
//
// Values that come from outside (an image in an AdmissionReview, a CloudEvent's fields, a
// registry's answer) go through untrusted(): a sender controls their size, and logging a 2 MiB
// string 200 times writes 400 MiB. Long ones are cut to a head, with the length and a hash to
// match log lines of the same value.
import { createHash } from 'node:crypto';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  'token',
  'auth',
  'authorization',
  '*.password',
  '*.token',
  '*.auth',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'data',
  '*.data',
  '*.dockerconfigjson',
];

export function createLogger(
  name: string,
  level = process.env['LOG_LEVEL'] ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    base: { function: name },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }), log: boundLogObject },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Longest untrusted string logged whole (an image reference is at most a few hundred bytes). */
export const UNTRUSTED_MAX = 512;
const HEAD = 128;

export interface Truncated {
  head: string;
  length: number;
  sha256: string;
}

/**
 * A value from outside, fit for a log line: as it is when short (strings up to UNTRUSTED_MAX
 * characters, numbers, booleans, null, undefined), else `{ head, length, sha256 }` of its string
 * (objects as JSON).
 */
export function untrusted(value: unknown): unknown {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean')
    return value;
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
    if (text.length <= UNTRUSTED_MAX) return value;
  }
  if (text.length <= UNTRUSTED_MAX) return text;
  return {
    head: text.slice(0, HEAD),
    length: text.length,
    sha256: createHash('sha256').update(text).digest('hex'),
  } satisfies Truncated;
}

/** Backstop for fields nobody wrapped in untrusted(): no string above this is logged whole. */
export const LOG_STRING_MAX = 2048;
/** Nor more than this many items of one list. */
export const LOG_LIST_MAX = 64;

const isPlain = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;

function bound(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.length > LOG_STRING_MAX ? untrusted(value) : value;
  if (depth > 6) return value;
  if (Array.isArray(value)) {
    const items = value.slice(0, LOG_LIST_MAX).map((x) => bound(x, depth + 1));
    if (value.length > LOG_LIST_MAX) items.push({ omitted: value.length - LOG_LIST_MAX });
    return items;
  }
  if (isPlain(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(value)) out[k] = bound(x, depth + 1);
    return out;
  }
  return value;
}

/**
 * pino's `formatters.log`: every log object, before redaction and serialization, with long strings
 * cut (untrusted()) and long lists shortened, wherever they are nested. Errors and other class
 * instances are left to pino's serializers.
 */
export function boundLogObject(obj: Record<string, unknown>): Record<string, unknown> {
  return bound(obj, 0) as Record<string, unknown>;
}
