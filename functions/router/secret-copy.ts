// §4.9: a cluster CR's credential lives in its own namespace (kuik-system, say); a Pod can only use
// pull secrets of its own namespace, so the router copies the Secret there under a name that is
// the same in every namespace and unique per (source Secret, owner CR): kuik's scheme, kept so
// copies made by kuik v2 are reused and cleaned up alike.
import type { V1Secret } from '@kubernetes/client-node';
import xxhash from 'xxhash-wasm';
import { GROUP, OWNER_LABELS, VERSION } from '#shared/crd/types.ts';

const { h64ToString } = await xxhash();

/** `kuik-<name, at most 231 chars>-<xxh64(namespace/ownerUID), 16 hex>`: at most 253 characters. */
export function secretCopyName(source: { name: string; namespace: string }, ownerUid: string): string {
  return `kuik-${source.name.slice(0, 231)}-${h64ToString(`${source.namespace}/${ownerUid}`)}`;
}

export interface Owner {
  kind: string;
  name: string;
  uid: string;
}

/**
 * The copy of `source` for `namespace`. A new object: the cached source is never mutated (kuik
 * #604: mutating it made names grow `kuik-kuik-…`). Unlike kuik, `owner-kind` names the real
 * owner kind (kuik wrote the namespaced kind of the converted cluster CR); cleanup keys on
 * `owner-uid` in both, so copies made by either are cleaned up.
 */
export function secretCopy(source: V1Secret, namespace: string, owner: Owner): V1Secret {
  const name = secretCopyName(
    { name: source.metadata?.name ?? '', namespace: source.metadata?.namespace ?? '' },
    owner.uid,
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: {
        [OWNER_LABELS.version]: VERSION,
        [OWNER_LABELS.group]: GROUP,
        [OWNER_LABELS.kind]: owner.kind,
        [OWNER_LABELS.uid]: owner.uid,
        [OWNER_LABELS.name]: owner.name,
        'app.kubernetes.io/managed-by': 'kuik-functions',
      },
    },
    ...(source.type === undefined ? {} : { type: source.type }),
    ...(source.data === undefined ? {} : { data: { ...source.data } }),
  };
}
