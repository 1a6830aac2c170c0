// §6.4 step 1 and step 4: which credentials a probe uses, and what a probe's result becomes in status.
//
// Credentials come from the pull secrets of the first pod (in list order) that has imagePullSecrets
// and uses the image, as a current or annotation-original image. The pods searched are those in
// scope of every CISA that lists the image (kuik searched only the pods of the CISA being
// reconciled, even for another CISA's image: QUIRK fixed). A pod whose Secrets cannot all be read
// (or are malformed) is skipped and its error remembered. No pod with usable Secrets: the registry's
// fallbackCredentialSecret, else anonymous; an error on the way makes the entry UnavailableSecret,
// but the probe still runs, anonymously, and only an InvalidAuth answer keeps that status.
import type { V1Pod } from '@kubernetes/client-node';
import type { SecretReference } from '#shared/config/config.ts';
import type { MonitorStatus } from '#shared/crd/types.ts';
import { KeyringCache } from '#shared/credentials/keyring-cache.ts';
import {
  type CredentialFailure,
  CredentialResolver,
  describeFailures,
  type ReadSecret,
} from '#shared/credentials/resolver.ts';
import { currentImages, originalImages } from '#shared/kube/pod-images.ts';
import type { RegistryCredential } from '#shared/registry/credentials.ts';
import type { Outcome } from '#shared/registry/outcome.ts';

export interface SecretSet {
  namespace: string;
  names: string[];
}

/**
 * For each image the pods use (current or annotation original), the pods that could lend their
 * pull secrets for it, in list order, as (namespace, names). Built once per tick and CISA: looking
 * pods up per image would cost images × pods × containers.
 */
export function secretIndex(pods: readonly V1Pod[]): Map<string, SecretSet[]> {
  const out = new Map<string, SecretSet[]>();
  for (const pod of pods) {
    const names = (pod.spec?.imagePullSecrets ?? []).flatMap((s) => (s.name ? [s.name] : []));
    if (names.length === 0) continue;
    const set = { namespace: pod.metadata?.namespace ?? '', names };
    for (const image of new Set([...currentImages(pod), ...originalImages(pod)])) {
      const list = out.get(image);
      if (list) list.push(set);
      else out.set(image, [set]);
    }
  }
  return out;
}

/**
 * Reads a Secret; rejects with an error whose message names it (never a value from it), or
 * resolves undefined when it does not exist.
 */
export type SecretReader = ReadSecret;

export interface Resolved {
  credentials: RegistryCredential[];
  /** Why no usable Secret could be loaded; the entry becomes UnavailableSecret unless the probe succeeds. */
  error?: string;
  /** Where the credentials came from, for the decision log. */
  from: string;
}

/**
 * Resolves the credentials for `image` (§6.4 step 1). `read` should be memoized per tick and
 * `keyrings` shared by the tick: many images share the same pull secrets.
 */
export async function resolveCredentials(
  image: string,
  sets: readonly SecretSet[],
  fallback: SecretReference | null,
  read: SecretReader,
  keyrings: KeyringCache = new KeyringCache(),
): Promise<Resolved> {
  const resolver = new CredentialResolver(read, keyrings);
  const errors: string[] = [];
  for (const set of sets) {
    const r = await resolver.resolve(
      set.names.map((name) => ({ namespace: set.namespace, name })),
      image,
    );
    if (!r.ok) {
      errors.push(describeFailures(r.error, 'pull secret'));
      continue;
    }
    return { credentials: r.value, from: `pull secrets ${set.namespace}/${set.names.join(',')}` };
  }
  if (fallback) {
    const where = `${fallback.namespace}/${fallback.name}`;
    const r = await resolver.resolve([fallback], image);
    if (r.ok) return { credentials: r.value, from: `fallback ${where}` };
    const f = r.error[0] as CredentialFailure;
    const error =
      f.kind === 'malformed'
        ? `fallback credential secret ${where}: ${f.message}`
        : f.kind === 'absent'
          ? `fallback credential secret ${where} not found`
          : `fallback credential secret ${where} not found: ${f.message}`;
    return { credentials: [], error, from: 'anonymous' };
  }
  if (errors.length > 0)
    return { credentials: [], error: `unavailable secret: ${errors.join('; ')}`, from: 'anonymous' };
  return { credentials: [], from: 'anonymous' };
}

export interface Verdict {
  status: MonitorStatus;
  /** Undefined clears the field (a success empties lastError). */
  lastError: string | undefined;
}

/** §6.4 step 4: the entry's status and lastError after a probe. */
export function verdict(
  credentialError: string | undefined,
  probe: { outcome: Outcome; message: string },
): Verdict {
  if (credentialError !== undefined && probe.outcome === 'InvalidAuth') {
    return { status: 'UnavailableSecret', lastError: credentialError };
  }
  return { status: probe.outcome, lastError: probe.outcome === 'Available' ? undefined : probe.message };
}
