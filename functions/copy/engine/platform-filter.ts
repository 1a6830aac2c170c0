// The platform filter of §5.4: which children of an index to copy, which configured platforms the
// source lacks, and the exact error kuik gives when it lacks them all. Pure.
//
// Beyond kuik (#594): when some configured platforms are present, the copy goes ahead with the
// intersection and the missing ones are reported in status instead of being only a log warning.
import {
  type ImagePlatform,
  isUnknownPlatform,
  matchPlatforms,
  noPlatformMessage,
  type PlatformSpec,
  renderPlatform,
  satisfies,
} from '#shared/image/platform.ts';
import type { Result } from '#shared/result.ts';

export interface ChildLike {
  digest: string;
  platform?: ImagePlatform | undefined;
}

export interface SelectedChildren<C extends ChildLike> {
  /** Children to copy, in source order. */
  keep: C[];
  /** True when `keep` is every child: the source index bytes can be pushed unchanged. */
  unchanged: boolean;
  /** Rendered platforms of the kept children, deduplicated, in source order. */
  mirrored: string[];
  /** Rendered configured platforms no child satisfies. */
  missing: string[];
}

export type IndexSelection<C extends ChildLike> = Result<SelectedChildren<C>>;

/**
 * §5.4 step 4: keep every child with a platform that satisfies a configured one; drop children
 * without platform and `unknown/unknown` attestations; fail when no configured platform is present.
 */
export function selectChildren<C extends ChildLike>(
  children: readonly C[],
  configured: readonly PlatformSpec[],
): IndexSelection<C> {
  const keep = children.filter(
    (c) =>
      c.platform !== undefined &&
      !isUnknownPlatform(c.platform) &&
      configured.some((p) => satisfies(p, c.platform as ImagePlatform)),
  );
  const { missing } = matchPlatforms(
    configured,
    keep.map((c) => c.platform as ImagePlatform),
  );
  if (keep.length === 0) return { ok: false, error: noPlatformMessage(configured) };
  return {
    ok: true,
    value: {
      keep,
      unchanged: keep.length === children.length,
      mirrored: [...new Set(keep.map((c) => renderPlatform(c.platform as ImagePlatform)))],
      missing: missing.map(renderPlatform),
    },
  };
}

/** §5.4 step 5: a single image's platform (from its config) against the configured ones. */
export function checkImagePlatform(
  platform: ImagePlatform | undefined,
  configured: readonly PlatformSpec[],
): Result<{ mirrored: string[]; missing: string[] }> {
  if (platform === undefined || (platform.architecture ?? '') === '') {
    return { ok: false, error: `${noPlatformMessage(configured)} (the image config declares no platform)` };
  }
  const { matched, missing } = matchPlatforms(configured, [platform]);
  if (matched.length === 0) return { ok: false, error: noPlatformMessage(configured) };
  return { ok: true, value: { mirrored: [renderPlatform(platform)], missing: missing.map(renderPlatform) } };
}
