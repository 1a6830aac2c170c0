// §2.7: which Secret pushes (and deletes) a mirrored reference, as the mirror set's spec says.
// One function for reconcile (which names it in copy requests and uses it for deletions) and copy
// (which trusts only this, never the request's own `destinationSecret`): a request cannot make the
// copy read a Secret the mirror set does not name.
import type { ClusterImageSetMirror, ImageSetMirror, Mirror } from '../crd/types.ts';
import { mirrorForReference } from '../image/mapping.ts';

export interface SecretRef {
  namespace: string;
  name: string;
}

/**
 * The credential Secret of the mirror owning `image`: an ImageSetMirror's always lives in its own
 * namespace (the spec's namespace field is ignored, as kuik does); a cluster kind's is where its
 * spec says.
 */
export function credentialFor(
  cr: ImageSetMirror | ClusterImageSetMirror,
  image: string,
): SecretRef | undefined {
  const m: Mirror | undefined = mirrorForReference(cr.spec.mirrors, image);
  const name = m?.credentialSecret?.name;
  if (!name) return undefined;
  const namespace =
    cr.kind === 'ImageSetMirror' ? (cr.metadata.namespace ?? '') : (m?.credentialSecret?.namespace ?? '');
  return { namespace, name };
}
