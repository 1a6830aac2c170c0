// Platforms as kuik names and compares them (§10.6): how one renders, when a configured platform
// keeps an image's, the exact error kuik gives when none is available, and whether a recorded
// copy is out of date for the configured platforms. The copy's index filter
// (functions/copy/engine/platform-filter.ts) and reconcile's re-copy decision both build on it. Pure.

/** A platform as configured (`mirroring.platforms`) or as an index child declares it; '' = unset. */
export interface PlatformSpec {
  os?: string | undefined;
  architecture: string;
  variant?: string | undefined;
}

/** What an index child's `platform` or an image config can say. */
export interface ImagePlatform {
  os?: string | undefined;
  architecture?: string | undefined;
  variant?: string | undefined;
}

/** §10.6 #69: `linux/arm64/v8`, `amd64`, `arm/v7` (os omitted when empty). */
export function renderPlatform(p: ImagePlatform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== '').join('/');
}

/** Each non-empty field of the configured platform equals the candidate's: {amd64} keeps windows/amd64. */
export function satisfies(configured: PlatformSpec, candidate: ImagePlatform): boolean {
  const eq = (want: string | undefined, have: string | undefined) =>
    want === undefined || want === '' || want === (have ?? '');
  return (
    eq(configured.os, candidate.os) &&
    eq(configured.architecture, candidate.architecture) &&
    eq(configured.variant, candidate.variant)
  );
}

/** Buildkit's attestation manifests sit in the index with this platform; kuik drops them. */
export function isUnknownPlatform(p: ImagePlatform): boolean {
  return p.os === 'unknown' && p.architecture === 'unknown';
}

export interface PlatformMatch<T extends PlatformSpec> {
  /** Configured platforms that at least one candidate satisfies. */
  matched: T[];
  /** Configured platforms no candidate satisfies. */
  missing: T[];
}

/** §10.6 #70: which configured platforms the available ones cover. */
export function matchPlatforms<T extends PlatformSpec>(
  configured: readonly T[],
  available: readonly ImagePlatform[],
): PlatformMatch<T> {
  const matched: T[] = [];
  const missing: T[] = [];
  for (const c of configured) (available.some((a) => satisfies(c, a)) ? matched : missing).push(c);
  return { matched, missing };
}

/** §10.6 #71, word for word (kuik users grep for it; status `lastError` starts with it). */
export function noPlatformMessage(configured: readonly PlatformSpec[]): string {
  return `none of the configured platforms are available in the source image: ${configured.map(renderPlatform).join(', ')}`;
}

/**
 * Whether a mirror recorded as copied for some `mirroring.platforms` is out of date for
 * `configured` (the platforms were changed since): a configured platform neither mirrored nor
 * reported missing, or a mirrored platform no configured one keeps. A status without platforms
 * (written by kuik, or before they were recorded) is taken as up to date: an upgrade re-copies
 * nothing. Pure.
 */
export function platformsChanged(
  recorded: { mirrored?: string[]; missing?: string[] } | undefined,
  configured: readonly PlatformSpec[],
): boolean {
  if (!recorded) return false;
  // Index children always name their os, so a mirrored entry reads os/architecture[/variant].
  const mirrored = (recorded.mirrored ?? []).map((s): ImagePlatform => {
    const [os, architecture, variant] = s.split('/');
    return { os, architecture, variant };
  });
  const missing = new Set(recorded.missing ?? []);
  const added = configured.some(
    (c) => !missing.has(renderPlatform(c)) && !mirrored.some((m) => satisfies(c, m)),
  );
  const removed = mirrored.some((m) => !configured.some((c) => satisfies(c, m)));
  return added || removed;
}
