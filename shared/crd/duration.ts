// Go duration strings, as kuik's `retention` and `unusedImageExpiry` hold them (metav1.Duration,
// parsed by Go's time.ParseDuration): "0", "90m", "1h30m", "1.5h", "500ms", "10us".
//
// The CRDs accept exactly the non-negative subset of Go's syntax (a negative retention or expiry has
// no meaning), with the same regular expression as below, then call CEL's duration() to reject values
// that overflow Go's int64 nanoseconds. Keep the two in step: shared/crd/schemas.test.ts checks the
// pattern string against the CRD YAML.

/** The CEL/RE2 and JS pattern of a non-negative Go duration. */
export const GO_DURATION_PATTERN = '^[+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$';

const GO_DURATION_RE = new RegExp(GO_DURATION_PATTERN);
const COMPONENT_RE = /([0-9]*)(?:[.]([0-9]*))?(ns|us|µs|μs|ms|s|m|h)/g;

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.Duration is an int64 count of nanoseconds; larger values fail to parse in kuik. */
const MAX_NS = (1n << 63n) - 1n;

/**
 * Parses a non-negative Go duration to nanoseconds, or undefined when Go (or our CRD) would reject
 * it: bad syntax, a sign other than `+`, or a value beyond int64 nanoseconds (about 292 years).
 */
export function parseGoDurationNs(text: string): bigint | undefined {
  if (!GO_DURATION_RE.test(text)) return undefined;
  const body = text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0n;
  let total = 0n;
  for (const [, whole = '', fraction = '', unit = ''] of body.matchAll(COMPONENT_RE)) {
    const scale = NS_PER_UNIT[unit]!;
    total += BigInt(whole || '0') * scale;
    if (fraction) {
      // Go truncates the fractional part to whole nanoseconds, as this does.
      total += (BigInt(fraction) * scale) / 10n ** BigInt(fraction.length);
    }
    if (total > MAX_NS) return undefined;
  }
  return total;
}

/** Milliseconds of a Go duration (fractional below 1 ms), or undefined when invalid. */
export function parseGoDurationMs(text: string): number | undefined {
  const ns = parseGoDurationNs(text);
  return ns === undefined ? undefined : Number(ns) / 1e6;
}

export function isGoDuration(text: string): boolean {
  return parseGoDurationNs(text) !== undefined;
}
