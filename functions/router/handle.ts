// AdmissionReview in, AdmissionReview out. The boundary where untrusted JSON becomes types
// (valibot), and where the rule "no fault of ours blocks a pod" is enforced once for everything
// below: a malformed review, an exception, or a decision that runs past its deadline all end in
// `allowed: true` with no patch. The apiserver's failurePolicy: Ignore only covers an unreachable
// webhook; an answer that denies is obeyed, so we never give one.
import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import * as v from 'valibot';
import { errorMessage } from '#shared/errors.ts';
import { describeSlot } from '#shared/kube/pod-images.ts';
import { type Admission, admit, type RouterDeps } from './decide.ts';

const AdmissionRequest = v.object({
  uid: v.pipe(v.string(), v.minLength(1)),
  kind: v.optional(v.object({ group: v.string(), version: v.string(), kind: v.string() })),
  subResource: v.optional(v.string()),
  operation: v.string(),
  namespace: v.optional(v.string()),
  name: v.optional(v.string()),
  dryRun: v.optional(v.boolean()),
  object: v.optional(v.unknown()),
  oldObject: v.optional(v.unknown()),
});
const AdmissionReview = v.object({
  apiVersion: v.literal('admission.k8s.io/v1'),
  kind: v.literal('AdmissionReview'),
  request: AdmissionRequest,
});
const PodShape = v.looseObject({
  metadata: v.optional(v.looseObject({})),
  spec: v.looseObject({ containers: v.array(v.looseObject({ name: v.string() })) }),
});

export type ReviewOutcome =
  | 'rerouted'
  | 'unchanged'
  | 'skipped'
  | 'ignored'
  | 'invalid'
  | 'error'
  | 'timeout';

export interface Handled {
  /** HTTP status and body to answer with. */
  status: number;
  body: unknown;
  outcome: ReviewOutcome;
  admission?: Admission;
  request?: v.InferOutput<typeof AdmissionRequest>;
  error?: string;
}

function review(uid: string, patch: jsonpatch.Operation[], warnings: string[]): unknown {
  const response: Record<string, unknown> = { uid, allowed: true };
  if (patch.length > 0) {
    response['patchType'] = 'JSONPatch';
    response['patch'] = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  if (warnings.length > 0) response['warnings'] = warnings;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

class Deadline extends Error {}

export async function handleReview(body: unknown, deps: RouterDeps, deadlineMs: number): Promise<Handled> {
  const parsed = v.safeParse(AdmissionReview, body);
  if (!parsed.success) {
    // Without a uid there is nothing we could answer that the apiserver would accept; a 400 makes
    // it apply failurePolicy (Ignore), i.e. admit the pod unchanged.
    const uid = (body as { request?: { uid?: unknown } } | null)?.request?.uid;
    const msg = v.summarize(parsed.issues);
    if (typeof uid !== 'string' || uid === '') {
      return {
        status: 400,
        body: { error: `not an admission.k8s.io/v1 AdmissionReview: ${msg}` },
        outcome: 'invalid',
        error: msg,
      };
    }
    return { status: 200, body: review(uid, [], []), outcome: 'invalid', error: msg };
  }
  const req = parsed.output.request;
  const isPod = req.kind === undefined || (req.kind.group === '' && req.kind.kind === 'Pod');
  const podParsed = v.safeParse(PodShape, req.object);
  if (!isPod || !podParsed.success || !['CREATE', 'UPDATE'].includes(req.operation)) {
    return { status: 200, body: review(req.uid, [], []), outcome: 'ignored', request: req };
  }
  const pod = req.object as V1Pod;
  // The namespace the pod is created in: the one Secret copies are written to (§4.9). The apiserver
  // makes the object's namespace match the request's before admission, so a review where they
  // differ was not sent by it (issue 14: a forged review wrote a credential copy into a namespace
  // where no pod was being created); one with neither has nowhere to put a copy.
  const objectNs = pod.metadata?.namespace;
  const namespace = req.namespace || objectNs;
  if (!namespace || (req.namespace && objectNs && objectNs !== req.namespace)) {
    const error = namespace
      ? `review for namespace ${req.namespace} carries a pod of namespace ${objectNs}: not from the apiserver, ignored`
      : 'review names no namespace: ignored';
    return { status: 200, body: review(req.uid, [], []), outcome: 'ignored', request: req, error };
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const admission = await Promise.race([
      admit(
        {
          operation: req.operation,
          subResource: req.subResource,
          namespace,
          dryRun: req.dryRun ?? false,
          object: pod,
          oldObject: v.is(PodShape, req.oldObject) ? (req.oldObject as V1Pod) : undefined,
        },
        deps,
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Deadline(`decision exceeded ${deadlineMs} ms`)), deadlineMs);
      }),
    ]);
    const patch = jsonpatch.compare(pod, admission.mutated);
    const rerouted = admission.decisions.filter((d) => d.by !== 'original');
    const warnings = rerouted.map(
      (d) => `kuik: ${describeSlot(d.slot, d.container)} uses ${d.chosen} (${d.reason}, ${d.by})`,
    );
    const outcome: ReviewOutcome = admission.skipped
      ? 'skipped'
      : rerouted.length > 0
        ? 'rerouted'
        : 'unchanged';
    return { status: 200, body: review(req.uid, patch, warnings), outcome, admission, request: req };
  } catch (err) {
    const timeout = err instanceof Deadline;
    return {
      status: 200,
      body: review(req.uid, [], []),
      outcome: timeout ? 'timeout' : 'error',
      request: req,
      error: errorMessage(err),
    };
  } finally {
    clearTimeout(timer);
  }
}
