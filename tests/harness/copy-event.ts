// The copy request as reconcile sends it to the copy function (functions/reconcile/main.ts,
// `requestCopy`), for tests that play reconcile: the mirror set it leaves behind, the request, and
// the `dev.kuik.copy.requested` CloudEvent carrying it, in the two forms the copy function reads
// (binary mode over HTTP, structured mode in a JobSink's event file). One builder, so every test
// sends the event reconcile sends.
import { CloudEvent, HTTP } from 'cloudevents';
import {
  COPY_EVENT_SOURCE,
  COPY_EVENT_TYPE,
  type CopyRequest,
  copyEventId,
  type Platform,
} from '#shared/copy-request.ts';
import type { MirrorStatusEntry } from '#shared/crd/types.ts';
import { imageSetMirror, kubectl, patchStatus, pod, uniq } from './fixtures.ts';

/** The CloudEvent reconcile sends for `req`: its id is the request's hash, its subject the destination. */
export function copyEvent(req: CopyRequest): CloudEvent<CopyRequest> {
  return new CloudEvent({
    id: copyEventId(req),
    type: COPY_EVENT_TYPE,
    source: COPY_EVENT_SOURCE,
    subject: req.destination,
    datacontenttype: 'application/json',
    data: req,
  });
}

/** The event as an HTTP POST in binary mode, for the copy function's app: `app.request('/', …)`. */
export function copyEventPost(req: CopyRequest): RequestInit {
  const msg = HTTP.binary(copyEvent(req));
  return { method: 'POST', headers: msg.headers as Record<string, string>, body: msg.body as string };
}

/** The event in structured mode, as a JobSink stores it in the Job's event file (startCopyJob). */
export function copyJobEvent(req: CopyRequest): string {
  return HTTP.structured(copyEvent(req)).body as string;
}

/**
 * The request for a copy of `source` to `destination` for `owner`, reading the pod's pull Secret
 * `pull` and the mirror's push Secret `push`, both in `secretsNamespace` (the owner's by default).
 */
export function copyRequest(
  owner: CopyRequest['owner'],
  source: string,
  destination: string,
  opts: { secretsNamespace?: string; pull?: string; push?: string; platforms?: Platform[] } = {},
): CopyRequest {
  const namespace = opts.secretsNamespace ?? owner.namespace;
  if (!namespace) throw new Error(`copyRequest: a ${owner.kind} has no namespace; give secretsNamespace`);
  return {
    owner,
    source,
    destination,
    sourcePullSecrets: { namespace, names: [opts.pull ?? 'pull'] },
    destinationSecret: { namespace, name: opts.push ?? 'push' },
    platforms: opts.platforms ?? [{ architecture: 'amd64' }],
  };
}

/**
 * What reconcile leaves before it asks for a copy: an ImageSetMirror in `namespace` with one
 * mirror (`registry`/`path`, pushed with the Secret `push`), its status naming `source` and its one
 * mirror (with `mirrorStatus`), and a pod running `source` with the Secret `pull` (the copy reads
 * `pull` because that pod does). Returns the set's name, the mirror, and the copy request for it.
 */
export async function mirrorSetToCopy(opts: {
  namespace: string;
  source: string;
  /** The mirror registry the set names (a proxy in front of the real one, say). */
  registry: string;
  path: string;
  push?: string;
  platforms?: Platform[];
  mirrorStatus?: Partial<MirrorStatusEntry>;
  /** The set's filter (a router that rewrites pods only for the images it names). */
  filter?: object;
}): Promise<{ name: string; destination: string; req: CopyRequest }> {
  const { namespace, source, registry, path } = opts;
  const push = opts.push ?? 'push';
  const name = uniq('ism');
  // The mirror keeps the source's repository and tag under `path`, as reconcile names it.
  const destination = `${registry}/${path}/${source.slice(source.indexOf('/') + 1)}`;
  await imageSetMirror(namespace, name, {
    ...(opts.filter ? { filter: opts.filter } : {}),
    mirrors: [{ registry, path, credentialSecret: { name: push } }],
  });
  const status = {
    matchingImages: [{ image: source, mirrors: [{ image: destination, ...opts.mirrorStatus }] }],
  };
  await patchStatus('ism', name, { status }, namespace);
  await pod(namespace, [source], ['pull']);
  const uid = (await kubectl(['get', 'ism', name, '-n', namespace, '-o', 'jsonpath={.metadata.uid}'])).trim();
  const owner = { kind: 'ImageSetMirror' as const, name, namespace, uid };
  const req = copyRequest(owner, source, destination, {
    push,
    ...(opts.platforms ? { platforms: opts.platforms } : {}),
  });
  return { name, destination, req };
}
