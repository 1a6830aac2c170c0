// metav1.Time: how every timestamp the functions write into a status reads (RFC 3339, UTC, whole
// seconds, as kuik's Go serializes it). One function, so that `mirroredAt`, `unusedSince`,
// `lastMonitor` and a condition's `lastTransitionTime` compare as strings.

/** RFC 3339 with second precision: `2026-04-21T10:00:00Z`. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
