// Which Secrets a copy may read, decided from the cluster, never from the request (issue 14).
// The copy endpoints take unauthenticated CloudEvents (a Knative Service, a JobSink URL); before
// this, a forged request naming another namespace's Secrets made the copy read them and push that
// namespace's private image into someone else's mirror. Now:
//   - destination: the credential the mirror set's spec names for that mirror (§2.7), the same
//     function reconcile uses; a request naming another one is refused;
//   - source: pull secrets only of a pod that really runs (or mounts as an image volume) the
//     source image and lists them in its imagePullSecrets, in the namespace the request names,
//     which for an ImageSetMirror must be its own namespace.
// The request's secret fields stay (reconcile sends them; a pod's pull secrets are not in the CR)
// but they are claims to check, not orders. Pure: the CR and the pods come in, a verdict goes out.
import type { V1Pod } from '@kubernetes/client-node';
import type { CopyRequest } from '#shared/copy-request.ts';
import { credentialFor, type SecretRef } from '#shared/credentials/mirror-credential.ts';
import { normalizeReference } from '#shared/image/reference.ts';
import { podImageRefs } from '#shared/kube/pod-images.ts';
import { err, ok, type Result } from '#shared/result.ts';
import type { MirrorSet } from './status.ts';

export interface AllowedSecrets {
  /** The pull secrets to read for the source: all in one namespace. */
  source?: { namespace: string; names: string[] };
  destination?: SecretRef;
}

export type Verdict = Result<AllowedSecrets>;

const show = (s: SecretRef | undefined) => (s ? `${s.namespace}/${s.name}` : 'none');

/** The destination check alone: it needs no pod list, so it runs first. */
export function allowedDestination(cr: MirrorSet, req: CopyRequest): Result<SecretRef | undefined> {
  const named = credentialFor(cr, req.destination);
  const asked = req.destinationSecret;
  if (asked && (asked.namespace !== named?.namespace || asked.name !== named?.name)) {
    return err(
      `destinationSecret ${show(asked)} is not the credential ${cr.kind} ${crName(cr)} names ` +
        `for ${req.destination} (${show(named)})`,
    );
  }
  return ok(named);
}

/** The namespace whose pods the source check lists, or why the request is refused already. */
export function sourceNamespace(cr: MirrorSet, req: CopyRequest): Result<string | undefined> {
  const asked = req.sourcePullSecrets;
  if (!asked || asked.names.length === 0) return ok(undefined);
  if (cr.kind === 'ImageSetMirror' && asked.namespace !== cr.metadata.namespace) {
    return err(
      `pull secrets from namespace ${asked.namespace}: ImageSetMirror ${crName(cr)} ` +
        `may only use Secrets of its own namespace`,
    );
  }
  return ok(asked.namespace);
}

/**
 * The source check: some pod of `pods` (listed in the requested namespace) runs `req.source` and
 * lists every requested pull secret. Which pod does not matter: the request does not say, and any
 * pod that pulls this image with these secrets vouches that they are meant for it.
 */
export function allowedSource(req: CopyRequest, pods: readonly V1Pod[]): Result<void> {
  const asked = req.sourcePullSecrets;
  if (!asked || asked.names.length === 0) return ok();
  const vouches = (pod: V1Pod) => {
    if (pod.metadata?.namespace !== undefined && pod.metadata.namespace !== asked.namespace) return false;
    // A pod that mounts the image as an image volume pulls it with the same pull secrets.
    const runs = podImageRefs(pod, { ephemeral: false }).some(
      (r) => r.image !== '' && normalizeReference(r.image) === req.source,
    );
    if (!runs) return false;
    const listed = new Set((pod.spec?.imagePullSecrets ?? []).map((s) => s.name));
    return asked.names.every((n) => listed.has(n));
  };
  if (pods.some(vouches)) return ok();
  return err(
    `no pod in namespace ${asked.namespace} runs ${req.source} with pull secrets ` +
      `${asked.names.join(', ')}: refusing to read them`,
  );
}

function crName(cr: MirrorSet): string {
  return cr.metadata.namespace ? `${cr.metadata.namespace}/${cr.metadata.name}` : (cr.metadata.name ?? '');
}
