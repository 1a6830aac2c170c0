// Several clusters sharing one mirror registry (§5.7). kuik v2 had no ownership at all: cluster A's
// retention could delete an image cluster B's pods run from the mirror. Here each cluster that has
// a mirrored image in use tags the same manifest with a claim,
//   <repository>:kuik-claim.<cluster>.<hash of the mirrored reference>,
// and deleting removes only its own claim, then the image only when no other cluster's claim for
// that reference remains. Tags work on every registry (distribution 2.8 has no referrers API), and
// since claims name the same manifest, a delete by digest is refused while any claim exists.
import { createHash } from 'node:crypto';

const PREFIX = 'kuik-claim.';

/** A short, tag-safe form of an identifier. */
function short(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** The claim tag of `cluster` for the mirrored reference `ref` (tag or digest; repository ignored). */
export function claimTag(cluster: string, ref: { tag?: string; digest?: string }): string {
  return `${PREFIX}${short(cluster, 12)}.${short(ref.digest ?? ref.tag ?? 'latest', 16)}`;
}

/** Whether `tag` claims `ref` for some cluster other than `cluster`. */
export function otherClaim(tag: string, cluster: string, ref: { tag?: string; digest?: string }): boolean {
  if (!tag.startsWith(PREFIX)) return false;
  const [owner, target] = tag.slice(PREFIX.length).split('.');
  return owner !== short(cluster, 12) && target === short(ref.digest ?? ref.tag ?? 'latest', 16);
}

export function isClaimTag(tag: string): boolean {
  return tag.startsWith(PREFIX);
}
