// §5.8: a ClusterImageSetMirror or ClusterReplicatedImageSet owns the pull-secret copies the router
// made from its credentials in app namespaces (labelled with its uid). A finalizer keeps the CR
// until those copies are deleted, in every namespace.
import { OWNER_LABELS, SECRET_FINALIZER } from '#shared/crd/types.ts';
import { apiStatus, type Kube, type KuikRef } from '#shared/kube/client.ts';

export type SecretOwnerOutcome = 'gone' | 'finalizer-added' | 'unchanged' | 'cleaned';

interface Owner {
  metadata: { uid?: string; finalizers?: string[]; deletionTimestamp?: string; resourceVersion?: string };
}

export async function reconcileSecretOwner(
  ref: KuikRef,
  kube: Kube,
): Promise<{ outcome: SecretOwnerOutcome; deleted: number }> {
  let obj: Owner;
  try {
    obj = await kube.getKuik<Owner>(ref);
  } catch (err) {
    if (apiStatus(err) === 404) return { outcome: 'gone', deleted: 0 };
    throw err;
  }
  const uid = obj.metadata.uid ?? '';
  const has = (o: Owner) => (o.metadata.finalizers ?? []).includes(SECRET_FINALIZER);
  if (!obj.metadata.deletionTimestamp) {
    if (has(obj)) return { outcome: 'unchanged', deleted: 0 };
    await kube.updateObject<Owner>(ref, (o) => {
      if (o.metadata.uid !== uid || has(o) || o.metadata.deletionTimestamp) return false;
      o.metadata.finalizers = [...(o.metadata.finalizers ?? []), SECRET_FINALIZER];
      return true;
    });
    return { outcome: 'finalizer-added', deleted: 0 };
  }
  if (!has(obj)) return { outcome: 'unchanged', deleted: 0 };
  const copies = await kube.core.listSecretForAllNamespaces({ labelSelector: `${OWNER_LABELS.uid}=${uid}` });
  let deleted = 0;
  for (const s of copies.items) {
    try {
      await kube.core.deleteNamespacedSecret({
        namespace: s.metadata?.namespace ?? '',
        name: s.metadata?.name ?? '',
      });
      deleted++;
    } catch (err) {
      if (apiStatus(err) !== 404) throw err;
    }
  }
  await kube.updateObject<Owner>(ref, (o) => {
    if (o.metadata.uid !== uid || !has(o)) return false;
    o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== SECRET_FINALIZER);
    return true;
  });
  return { outcome: 'cleaned', deleted };
}
