// One admission, decided (§4.3–§4.10): which containers to route, where to, which pull secret the
// pod needs, and what to write down about it. The I/O it needs (CR cache, Secrets, probes, secret
// copies, stale-mirror signals) comes in through RouterDeps so the whole decision runs in unit
// tests against plain data.
//
// Error policy (docs/router-errors.md): kuik denied the pod on several faults of its own (a broken
// credentialSecret on an alternative never chosen, a failed secret copy, a CR list error). Here no
// fault on our side blocks a pod: an alternative we cannot use is skipped, and with nothing usable
// the container keeps the image the user wrote.
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { ORIGINAL_IMAGES_ANNOTATION, STATIC_POD_ANNOTATION } from '#shared/crd/types.ts';
import { readOnce } from '#shared/credentials/resolver.ts';
import { errorMessage } from '#shared/errors.ts';
import { type PodLike, podMatcherFor } from '#shared/filter/filter.ts';
import { type ImageReference, parseReference } from '#shared/image/reference.ts';
import { describeSlot, type ImageSlot, serializeOriginals, setPodImage } from '#shared/kube/pod-images.ts';
import {
  type Alternative,
  type AlternativeSource,
  buildAlternativesCached,
  type CrRef,
  describeSource,
  type RoutingSet,
} from './alternatives.ts';
import type { AvailabilityChecker, CheckResult, Credential } from './availability.ts';
import { type SelectedContainer, selectContainers } from './containers.ts';
import { firstSuccessInOrder } from './first-in-order.ts';
import { secretCopy, secretCopyName } from './secret-copy.ts';

export const REWRITTEN_BY_ANNOTATION = 'kuik.enix.io/rewritten-by';
export const REASON_ANNOTATION = 'kuik.enix.io/reason';
export const DECISIONS_ANNOTATION = 'kuik.enix.io/decisions';

export interface RouterConfig {
  rewriteOnNeverImagePullPolicy: boolean;
  honorPrioritiesOnAlwaysImagePullPolicy: boolean;
  /** The operator's global opt-out (§3.7), compiled. */
  skip: (pod: PodLike) => boolean;
  /** Route image volumes too (`imageVolumes`, default true; docs/image-volumes.md). */
  imageVolumes?: boolean;
}

export interface AdmissionInput {
  operation: string;
  subResource?: string | undefined;
  namespace: string;
  dryRun: boolean;
  object: V1Pod;
  oldObject?: V1Pod | undefined;
}

export interface RouterDeps {
  config: RouterConfig;
  /** Every routing CR that may apply to a pod of `namespace` (cluster kinds + that namespace's). */
  routingSet(namespace: string): RoutingSet;
  /** The Secret, or undefined when it does not exist. Throws on other API errors. */
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** Registry credentials in `secrets` that apply to `image` (§2.8). Throws on malformed secrets. */
  credentialsFor(secrets: readonly V1Secret[], image: ImageReference): Credential[];
  checker: AvailabilityChecker;
  /** Creates or replaces a pull-secret copy (never called on dry run). */
  upsertSecret(secret: V1Secret): Promise<void>;
  /** A mirror alternative answered NotFound: its `mirroredAt` is stale (§4.10; never on dry run). */
  staleMirror(cr: CrRef, image: string): void;
}

/** Why a container (or an image volume) got the image it got; also the JSON of the decisions annotation. */
export interface ContainerDecision {
  /** The container's name, or the image volume's. */
  container: string;
  /** Where the reference is: `volumes` for an image volume, else the container list. */
  slot: ImageSlot;
  /** Annotation key: `NAME`, `init:NAME`, `ephemeral:NAME`, `volume:NAME`. */
  key: string;
  original: string;
  /** The image the container runs after admission (normalized when rewritten). */
  chosen: string;
  /** `Kind/name` of the CR that supplied `chosen`, or `original`. */
  by: string;
  /**
   * Rewritten: `Priority` (it ranks before the original), `OnFailure` (everything before it failed).
   * Kept: `OriginalAvailable`, `NoAlternatives` (nothing else to try), `AllUnavailable`.
   * Either: `QuotaLimited`, nothing was available but this one refused us for quota only: the
   * image is there, the registry says no to us now (docs/shared-quota.md).
   */
  reason:
    | 'Priority'
    | 'OnFailure'
    | 'OriginalAvailable'
    | 'NoAlternatives'
    | 'AllUnavailable'
    | 'OnlyAlternative'
    | 'QuotaLimited';
  /** The alternatives tried before `chosen`, and why each lost. */
  rejected: { image: string; by: string; result: string; message: string }[];
  /** Every alternative in the order tried (for `kuik explain`; not written to the pod). */
  alternatives: { image: string; by: string }[];
}

export interface Admission {
  mutated: V1Pod;
  decisions: ContainerDecision[];
  /** Things an operator should know that changed nothing (logged by the caller). */
  notes: string[];
  skipped?: 'static-pod' | 'global-skip';
}

const MESSAGE_MAX = 240;
const clip = (s: string) => (s.length > MESSAGE_MAX ? `${s.slice(0, MESSAGE_MAX - 1)}…` : s);

function crFromSource(source: AlternativeSource): CrRef | undefined {
  return source.type === 'original' ? undefined : source.cr;
}

/** Which Secret the pod gets for `source`: the pull-only one when the CR names one. */
function podSecretFor(source: AlternativeSource): { name: string; namespace: string } | undefined {
  if (source.type === 'original') return undefined;
  return source.pullSecret ?? source.credentialSecret;
}

export async function admit(input: AdmissionInput, deps: RouterDeps): Promise<Admission> {
  const pod = input.object;
  const mutated: V1Pod = structuredClone(pod);
  const notes: string[] = [];
  if (pod.metadata?.annotations?.[STATIC_POD_ANNOTATION] !== undefined) {
    return { mutated, decisions: [], notes, skipped: 'static-pod' };
  }
  const podLike: PodLike = { metadata: { ...pod.metadata, namespace: input.namespace } };
  if (deps.config.skip(podLike)) return { mutated, decisions: [], notes, skipped: 'global-skip' };

  const selection = selectContainers(pod, input, { imageVolumes: deps.config.imageVolumes !== false });
  if (selection.annotationError)
    notes.push(`ignored malformed ${ORIGINAL_IMAGES_ANNOTATION}: ${selection.annotationError}`);
  const ephemeralOnly = input.subResource === 'ephemeralcontainers';
  if (!ephemeralOnly) {
    // Written even when nothing is routed (§4.3 step 5): the reconcilers read it.
    mutated.metadata = { ...mutated.metadata };
    mutated.metadata.annotations = {
      ...mutated.metadata.annotations,
      [ORIGINAL_IMAGES_ANNOTATION]: serializeOriginals(selection.originals),
    };
  }

  const work: { c: SelectedContainer; ref: ImageReference }[] = [];
  for (const c of selection.containers) {
    const parsed = parseReference(c.image);
    if (!parsed.ok) {
      notes.push(
        `${describeSlot(c.list, c.name)}: image ${excerpt(c.image)} not routed: ${parsed.error.message}`,
      );
      continue;
    }
    if (c.imagePullPolicy === 'Never' && !deps.config.rewriteOnNeverImagePullPolicy) continue;
    work.push({ c, ref: parsed.value });
  }
  if (work.length === 0) return { mutated, decisions: [], notes };

  const crs = applicableCrs(deps.routingSet(input.namespace), podLike, notes);
  const podSecrets = await loadPodSecrets(pod, input.namespace, deps, notes);
  const getSecretOnce = readOnce((ns: string, name: string) => deps.getSecret(ns, name));

  const copies = new Map<string, Promise<void>>();
  const copySecretOnce = (source: V1Secret, owner: CrRef) => {
    const copy = secretCopy(source, input.namespace, owner);
    const k = copy.metadata?.name ?? '';
    let p = copies.get(k);
    if (!p) {
      p = deps.upsertSecret(copy);
      copies.set(k, p);
    }
    return p;
  };

  const decisions = await Promise.all(
    work.map(({ c, ref }) =>
      decideContainer(c, ref, {
        input,
        deps,
        crs,
        podSecrets,
        getSecretOnce,
        notes,
        mutated,
        copySecretOnce,
      }),
    ),
  );
  const routed = decisions.filter((d): d is ContainerDecision => d !== undefined);
  if (routed.length > 0 && !ephemeralOnly) writeExplanations(mutated, routed);
  return { mutated, decisions: routed, notes };
}

function applicableCrs(all: RoutingSet, pod: PodLike, notes: string[]): RoutingSet {
  const keep = <T extends Parameters<typeof podMatcherFor>[0]>(list: readonly T[]): T[] =>
    list.filter((cr) => {
      const m = podMatcherFor(cr);
      if (!m.ok) {
        notes.push(`${cr.kind}/${cr.metadata.name} skipped: ${m.error.message}`);
        return false;
      }
      return m.value(pod);
    });
  return { cisms: keep(all.cisms), isms: keep(all.isms), crises: keep(all.crises), riss: keep(all.riss) };
}

async function loadPodSecrets(
  pod: V1Pod,
  namespace: string,
  deps: RouterDeps,
  notes: string[],
): Promise<V1Secret[]> {
  const out: V1Secret[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    try {
      const s = await deps.getSecret(namespace, ref.name);
      if (s) out.push(s);
      else notes.push(`pull secret ${namespace}/${ref.name} not found`);
    } catch (err) {
      // kuik denied the pod here; probing without this credential is the safe degradation.
      notes.push(`pull secret ${namespace}/${ref.name} unreadable: ${errorMessage(err)}`);
    }
  }
  return out;
}

interface Ctx {
  input: AdmissionInput;
  deps: RouterDeps;
  crs: RoutingSet;
  podSecrets: V1Secret[];
  getSecretOnce: (ns: string, name: string) => Promise<V1Secret | undefined>;
  notes: string[];
  mutated: V1Pod;
  /** One copy per (source Secret, owner CR) per admission, however many containers need it. */
  copySecretOnce: (source: V1Secret, owner: CrRef) => Promise<void>;
}

async function decideContainer(
  c: SelectedContainer,
  ref: ImageReference,
  ctx: Ctx,
): Promise<ContainerDecision | undefined> {
  const { deps, input } = ctx;
  const built = buildAlternativesCached(ref, ctx.crs, {
    imagePullPolicy: c.imagePullPolicy,
    honorPrioritiesOnAlwaysImagePullPolicy: deps.config.honorPrioritiesOnAlwaysImagePullPolicy,
  });
  ctx.notes.push(...built.notes.map((n) => `${describeSlot(c.list, c.name)}: ${n}`));
  const alts = built.alternatives;
  const base = {
    container: c.name,
    slot: c.list,
    key: c.key,
    original: c.image,
    alternatives: alts.map((a) => ({ image: a.image, by: describeSource(a.source) })),
  };
  // Route to `alt`: its pull secret put in place (undefined when it cannot be), the image rewritten.
  const routeTo = async (
    alt: Alternative,
    reason: ContainerDecision['reason'],
    rejected: ContainerDecision['rejected'],
  ): Promise<ContainerDecision | undefined> => {
    if (!(await applySecret(alt, c, ctx))) return undefined;
    setImage(ctx.mutated, c, alt.image);
    return { ...base, chosen: alt.image, by: describeSource(alt.source), reason, rejected };
  };
  if (alts.length === 0) {
    return { ...base, chosen: c.image, by: 'original', reason: 'NoAlternatives', rejected: [] };
  }
  if (alts.length === 1) {
    const only = alts[0]!;
    if (only.source.type === 'original') return undefined; // Nothing applies: not a decision.
    // Fixed §4.6 QUIRK: the original was discarded and one alternative is left, so route to it,
    // as kuik's documentation promises (kuik kept the discarded original).
    const routed = await routeTo(only, 'OnlyAlternative', []);
    return routed ?? { ...base, chosen: c.image, by: 'original', reason: 'AllUnavailable', rejected: [] };
  }

  const results: (CheckResult | undefined)[] = new Array(alts.length);
  const outcome = await firstSuccessInOrder(
    alts.map((alt, i) => async () => {
      const r = await checkAlternative(alt, ctx);
      results[i] = r;
      if (r.outcome === 'NotFound' && alt.source.type === 'mirror' && !input.dryRun) {
        deps.staleMirror(alt.source.cr, alt.image);
      }
      // A plain object, not an Error: most alternatives of a busy cluster are unavailable, and
      // capturing a stack trace for each was a visible share of the router's CPU.
      if (r.outcome !== 'Available') throw { message: r.message };
      return r;
    }),
  );
  const rejected: ContainerDecision['rejected'] = [];
  const reject = (i: number, message: string) => {
    const alt = alts[i]!;
    rejected.push({
      image: alt.image,
      by: describeSource(alt.source),
      result: results[i]?.outcome ?? 'Error',
      message: clip(message),
    });
  };
  for (const e of outcome.errors) reject(e.index, errorMessage(e.error));

  // The winner, unless its pull secret cannot be put in place; then the next available one.
  let index = outcome.winner?.index;
  while (index !== undefined) {
    const alt = alts[index]!;
    if (alt.source.type === 'original') {
      return { ...base, chosen: c.image, by: 'original', reason: 'OriginalAvailable', rejected };
    }
    // Ranked ahead of the original (which was then never needed), or reached because it failed.
    const originalAt = alts.findIndex((a) => a.source.type === 'original');
    const routed = await routeTo(
      alt,
      originalAt === -1 || originalAt > index ? 'Priority' : 'OnFailure',
      rejected,
    );
    if (routed) return routed;
    reject(index, `pull secret for ${alt.image} could not be put in namespace ${input.namespace}`);
    index = await nextAvailable(alts, results, index + 1, ctx);
  }
  // Nothing available. A refusal for quota is not "image gone": the first alternative (in order)
  // that only refused us for quota still has the image and serves it once the quota resets (the
  // kubelet retries the pull), so it wins over one that is gone or unreachable.
  for (let i = 0; i < alts.length; i++) {
    if (results[i]?.outcome !== 'QuotaExceeded') continue;
    const alt = alts[i]!;
    const others = rejected.filter((r) => r.image !== alt.image || r.by !== describeSource(alt.source));
    if (alt.source.type === 'original')
      return { ...base, chosen: c.image, by: 'original', reason: 'QuotaLimited', rejected: others };
    const routed = await routeTo(alt, 'QuotaLimited', others);
    if (routed) return routed;
  }
  return { ...base, chosen: c.image, by: 'original', reason: 'AllUnavailable', rejected };
}

async function nextAvailable(
  alts: Alternative[],
  results: (CheckResult | undefined)[],
  from: number,
  ctx: Ctx,
): Promise<number | undefined> {
  for (let i = from; i < alts.length; i++) {
    const r = results[i] ?? (await checkAlternative(alts[i]!, ctx));
    results[i] = r;
    if (r.outcome === 'Available') return i;
  }
  return undefined;
}

async function checkAlternative(alt: Alternative, ctx: Ctx): Promise<CheckResult> {
  const secrets = [...ctx.podSecrets];
  const own = podSecretFor(alt.source);
  const probeSecret = alt.source.type === 'original' ? undefined : (alt.source.credentialSecret ?? own);
  if (probeSecret) {
    const where = `${probeSecret.namespace}/${probeSecret.name}`;
    if (!probeSecret.namespace) {
      return {
        outcome: 'InvalidAuth',
        message: `credential secret ${probeSecret.name} has no namespace`,
        cached: false,
      };
    }
    try {
      const s = await ctx.getSecretOnce(probeSecret.namespace, probeSecret.name);
      if (!s)
        return { outcome: 'InvalidAuth', message: `credential secret ${where} not found`, cached: false };
      secrets.push(s);
    } catch (err) {
      return {
        outcome: 'Unreachable',
        message: `credential secret ${where} unreadable: ${errorMessage(err)}`,
        cached: false,
      };
    }
  }
  let creds: Credential[];
  try {
    creds = ctx.deps.credentialsFor(secrets, alt.ref);
  } catch (err) {
    return {
      outcome: 'Unreachable',
      message: `registry unreachable: ${errorMessage(err)}`,
      cached: false,
    };
  }
  try {
    return await ctx.deps.checker.check(alt.ref, creds);
  } catch (err) {
    return {
      outcome: 'Unreachable',
      message: `registry unreachable: ${errorMessage(err)}`,
      cached: false,
    };
  }
}

/**
 * §4.9: make the alternative's pull secret usable by the pod: same namespace → its name; another
 * namespace → a copy (written unless dry run). Returns false when that failed.
 */
async function applySecret(alt: Alternative, c: SelectedContainer, ctx: Ctx): Promise<boolean> {
  const secret = podSecretFor(alt.source);
  const cr = crFromSource(alt.source);
  if (!secret || !cr) return true;
  // Ephemeral containers cannot add pull secrets (the subresource keeps only their specs).
  if (c.list === 'ephemeralContainers') return true;
  const sameNamespace = secret.namespace === ctx.input.namespace;
  const name = sameNamespace ? secret.name : secretCopyName(secret, cr.uid);
  // Read again after every await below: containers are decided in parallel, and one that needs
  // the same secret may have listed it meanwhile (3 containers listed one copy 3 times).
  const isListed = () => (ctx.mutated.spec?.imagePullSecrets ?? []).some((s) => s.name === name);
  const listed = isListed();
  if (ctx.input.operation === 'UPDATE') {
    // A Pod UPDATE may change images only: spec.imagePullSecrets is immutable there, so an
    // alternative needing a secret the pod does not list already cannot be used.
    if (!listed)
      ctx.notes.push(
        `${describeSlot(c.list, c.name)}: ${alt.image} needs pull secret ${name}, which a Pod update cannot add`,
      );
    return listed;
  }
  if (!sameNamespace && !ctx.input.dryRun) {
    // Refreshed on every admission that routes through it (§4.9): a rotated credential follows.
    let source: V1Secret | undefined;
    try {
      source = await ctx.getSecretOnce(secret.namespace, secret.name);
    } catch (err) {
      ctx.notes.push(`secret ${secret.namespace}/${secret.name}: ${errorMessage(err)}`);
      return false;
    }
    if (!source) {
      ctx.notes.push(`secret ${secret.namespace}/${secret.name} not found`);
      return false;
    }
    try {
      await ctx.copySecretOnce(source, cr);
    } catch (err) {
      ctx.notes.push(
        `copy of secret ${secret.namespace}/${secret.name} into ${ctx.input.namespace}: ${errorMessage(err)}`,
      );
      return false;
    }
  }
  if (!isListed()) {
    const spec = ctx.mutated.spec!;
    spec.imagePullSecrets = [...(spec.imagePullSecrets ?? []), { name }];
  }
  return true;
}

function setImage(pod: V1Pod, c: SelectedContainer, image: string): void {
  setPodImage(pod, { slot: c.list, index: c.index }, image);
}

/** The per-container JSON maps that explain the admission (merged with earlier admissions'). */
function writeExplanations(pod: V1Pod, decisions: ContainerDecision[]): void {
  const annotations = { ...pod.metadata?.annotations };
  const merge = (name: string, entries: [string, unknown][]) => {
    const current = parseJsonObject(annotations[name]);
    for (const [k, v] of entries) {
      if (v === undefined) delete current[k];
      else current[k] = v;
    }
    if (Object.keys(current).length === 0) delete annotations[name];
    else
      annotations[name] = JSON.stringify(
        Object.fromEntries(Object.entries(current).sort(([a], [b]) => (a < b ? -1 : 1))),
      );
  };
  merge(
    REWRITTEN_BY_ANNOTATION,
    decisions.map((d) => [d.key, d.by === 'original' ? undefined : d.by]),
  );
  merge(
    REASON_ANNOTATION,
    decisions.map((d) => [d.key, d.reason]),
  );
  merge(
    DECISIONS_ANNOTATION,
    decisions.map((d) => [
      d.key,
      {
        chosen: d.chosen,
        by: d.by,
        reason: d.reason,
        ...(d.rejected.length ? { rejected: d.rejected } : {}),
      },
    ]),
  );
  pod.metadata = { ...pod.metadata, annotations };
}

function parseJsonObject(s: string | undefined): Record<string, unknown> {
  if (!s) return {};
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * A rejected image as a log line shows it: quoted, and cut after 256 characters (the sender chose
 * its length; 2 MiB images made 2 MiB log lines).
 */
export function excerpt(image: string): string {
  if (image.length <= 256) return JSON.stringify(image);
  return `${JSON.stringify(image.slice(0, 256))}… (${image.length} characters)`;
}
