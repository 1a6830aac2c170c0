// One monitor tick (§6): everything a PingSource tick does, in order, within `monitoring.tickBudget`.
// runTick reads top to bottom as these steps:
//
//   1. listAndCompile: list CISAs and pods once; compile each CISA's filter and run discovery (§6.2);
//   2. planLanes: candidates per registry, most overdue first (§6.3), each registry's spacing
//      widened to this cluster's share of a rate limit other clusters report;
//   3. reserveSlots: slots in the ledger on the oldest CISA, with one conditional status write,
//      before any probe (pacing.ts);
//   4. probeReserved: probe in the reserved slots, per registry in parallel, until the probe
//      deadline (§6.4); then publish rate limits and judge tag drift;
//   5. writeStatuses: one status write per CISA that changed (discovery + results), the ledger
//      CISA last with the lease released, unused slots given back and the tick recorded
//      (`status.monitoring.lastTick`).
//
// The full resync of every mirror set (the net under lost events) is not the monitor's: reconcile
// runs it on a schedule of its own (functions/reconcile/resync.ts).
//
// Time budget (shared/tick/budget.ts): slots are reserved only up to the probe deadline; probes
// still running when the budget's write reserve starts are aborted and recorded as Unreachable;
// writes stop at the hard deadline (the ledger CISA is always written, with `writeCursor` naming
// the first CISA skipped, which the next tick writes first). Images not probed keep the oldest
// lastMonitor, so the next tick starts with them: it resumes where this one stopped.
import { randomUUID } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { Config, ResolvedRegistryMonitoring } from '#shared/config/config.ts';
import { resolveRegistryMonitoring } from '#shared/config/config.ts';
import { parseKuikObject } from '#shared/crd/schemas.ts';
import type {
  ClusterImageSetAvailability,
  ClusterImageSetMirror,
  ImageSetMirror,
  MonitorTickRecord,
  TickOutcome,
} from '#shared/crd/types.ts';
import { KeyringCache } from '#shared/credentials/keyring-cache.ts';
import { type ReadSecret, readOnce } from '#shared/credentials/resolver.ts';
import { errorMessage } from '#shared/errors.ts';
import { invalidFilterNote, type PodLike } from '#shared/filter/filter.ts';
import { apiMessage, type Kube, type KuikRef, listKuik } from '#shared/kube/client.ts';
import { type Logger, untrusted } from '#shared/log.ts';
import {
  type QuotaRecord,
  quotaCredential,
  quotaKey,
  quotaPacing,
  recordOf,
  registryPacing,
} from '#shared/quota.ts';
import type { Outcome, RateLimit } from '#shared/registry/outcome.ts';
import type { ProbeOptions } from '#shared/registry/probe.ts';
import { type BudgetPlan, budgetPlan } from '#shared/tick/budget.ts';
import { rfc3339 } from '#shared/time.ts';
import { resolveCredentials, type SecretSet, secretIndex, verdict } from './credentials.ts';
import { annotationOriginals } from './discovery.ts';
import {
  applyMirrorChange,
  driftNote,
  isTagReference,
  judgeDrift,
  mirrorsOf,
  runningDigests,
} from './drift.ts';
import type { MonitorMetrics } from './metrics.ts';
import {
  type Candidate,
  collectCandidates,
  isoMillis,
  type LaneRequest,
  latestProbes,
  nextStart,
  type Reservation,
  registryOf,
  release,
  reserve,
  spacingMs,
} from './pacing.ts';
import type { QuotaStore } from './quota-store.ts';
import { type CompiledCisa, compileCisa, finalStatus, ledgerHolder, type ProbeRecord } from './tick-plan.ts';

/** The probe the monitor needs of the shared registry client (RegistryClient.probe fits). */
export type Prober = (
  image: string,
  opts: ProbeOptions,
) => Promise<{ outcome: Outcome; message: string; rateLimit?: RateLimit; descriptor?: { digest: string } }>;

export interface MonitorDeps {
  kube: Kube;
  log: Logger;
  config: Config;
  skip: (pod: PodLike) => boolean;
  probe: Prober;
  /** A Warning event on a CISA (InvalidFilter). */
  warn(cisa: ClusterImageSetAvailability, reason: string, note: string, action?: string): Promise<void>;
  /** Which CISAs this monitor owns (a label selector); default: all of them. */
  cisaSelector?: string;
  /** Names this instance in tick ids and the lease (the pod name in a cluster). */
  instance: string;
  now(): number;
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  /**
   * Rate limits shared with the other clusters writing to the same registry (shared/quota.ts):
   * read before the reservation, this cluster's observations written after the probes.
   */
  quota?: { store: QuotaStore; cluster: string };
  /** Called with every probe start (registry, epoch ms): the benchmark's and tests' budget check. */
  onProbeStart?(registry: string, at: number): void;
}

export interface TickSummary {
  id: string;
  startedAt: string;
  finishedAt: string;
  /**
   * `LeaseHeld`: another tick was probing; `NothingDue`: no registry had a slot before the probe
   * deadline. Either way this tick only wrote discovery.
   */
  outcome: TickOutcome | 'LeaseHeld' | 'NothingDue';
  cisas: number;
  invalid: string[];
  probed: number;
  pending: number;
  aborted: number;
  writes: { written: number; unchanged: number; gone: number; failed: number; skipped: number };
  errors: string[];
}

const WRITE_CONCURRENCY = 4;

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export async function listCisas(kube: Kube, selector?: string): Promise<ClusterImageSetAvailability[]> {
  const items = await listKuik(kube, 'ClusterImageSetAvailability', { labelSelector: selector });
  return items.flatMap((item) => {
    const r = parseKuikObject('ClusterImageSetAvailability', item);
    return r.ok ? [r.value.object] : [];
  });
}

export async function runTick(deps: MonitorDeps, metrics?: MonitorMetrics): Promise<TickSummary> {
  const t = beginTick(deps, metrics);
  try {
    const seen = await listAndCompile(t);
    const lanes = await planLanes(t, seen);
    const lease = await reserveSlots(t, seen, lanes);
    const probed = lease.leased ? await probeReserved(t, seen, lanes, lease) : noProbes();
    await writeStatuses(t, seen, probed, lease);
  } finally {
    t.summary.finishedAt = isoMillis(deps.now());
  }
  recordTick(t);
  return t.summary;
}

/** What every step of one tick shares: who, when, its budget, and the summary it fills in. */
interface Tick {
  deps: MonitorDeps;
  metrics: MonitorMetrics | undefined;
  id: string;
  start: number;
  budget: BudgetPlan;
  summary: TickSummary;
}

/** Step 1's result: the cluster as listed once, every CISA compiled against it. */
interface Seen {
  cisas: ClusterImageSetAvailability[];
  pods: V1Pod[];
  originals: ReturnType<typeof annotationOriginals>;
  compiled: CompiledCisa[];
  /** The CISAs whose filter compiled. */
  valid: CompiledCisa[];
}

/** Step 2's result: what each registry would probe, and how fast it may. */
interface Lanes {
  candidates: Map<string, Candidate[]>;
  settings: Map<string, ResolvedRegistryMonitoring>;
  requests: LaneRequest[];
  quotas: Awaited<ReturnType<typeof readQuotas>>;
}

/** Step 3's result: the ledger's holder and the slots this tick got in it. */
interface Lease {
  holder: ClusterImageSetAvailability | undefined;
  leased: boolean;
  reservations: Reservation[];
}

/** Step 4's result: each probed image's record, and each registry's last probe start. */
interface Probed {
  results: Map<string, ProbeRecord>;
  lastStart: Map<string, number>;
}

const noProbes = (): Probed => ({ results: new Map(), lastStart: new Map() });

function beginTick(deps: MonitorDeps, metrics: MonitorMetrics | undefined): Tick {
  const start = deps.now();
  const id = `${deps.instance}-${randomUUID().slice(0, 8)}`;
  return {
    deps,
    metrics,
    id,
    start,
    budget: budgetPlan(start, deps.config.monitoring.tickBudget),
    summary: {
      id,
      startedAt: isoMillis(start),
      finishedAt: '',
      outcome: 'NothingDue',
      cisas: 0,
      invalid: [],
      probed: 0,
      pending: 0,
      aborted: 0,
      writes: { written: 0, unchanged: 0, gone: 0, failed: 0, skipped: 0 },
      errors: [],
    },
  };
}

/** 1. One list of CISAs and one of pods, for every CISA; an invalid filter warns and is skipped. */
async function listAndCompile(t: Tick): Promise<Seen> {
  const { deps, summary } = t;
  let cisas: ClusterImageSetAvailability[];
  let pods: V1Pod[];
  try {
    [cisas, pods] = await Promise.all([
      listCisas(deps.kube, deps.cisaSelector),
      deps.kube.core.listPodForAllNamespaces().then((l) => l.items),
    ]);
  } catch (err) {
    throw new Error(`listing ClusterImageSetAvailabilities and pods: ${apiMessage(err)}`);
  }
  summary.cisas = cisas.length;
  const which = { imageVolumes: deps.config.imageVolumes };
  const originals = annotationOriginals(pods, which);
  const compiled = cisas.map((c) => compileCisa(c, pods, deps.skip, originals, t.start, which));
  for (const c of compiled) {
    if (!c.filterError) continue;
    summary.invalid.push(c.name);
    deps.log.warn({ cisa: c.name, error: c.filterError.message }, 'filter is invalid: CISA skipped');
    await deps.warn(c.cisa, 'InvalidFilter', invalidFilterNote(c.filterError));
  }
  return { cisas, pods, originals, compiled, valid: compiled.filter((c) => !c.filterError) };
}

/** 2. Candidates per registry and the request for slots each makes. */
async function planLanes(t: Tick, seen: Seen): Promise<Lanes> {
  const { deps, summary } = t;
  const candidates = collectCandidates(seen.valid);
  const settings = new Map<string, ResolvedRegistryMonitoring>();
  const requests: LaneRequest[] = [];
  const quotas = candidates.size > 0 ? await readQuotas(deps, summary) : [];
  for (const [registry, list] of candidates) {
    const s = resolveRegistryMonitoring(deps.config, registry);
    settings.set(registry, s);
    const own = spacingMs(s);
    const q = registryPacing(quotas, registry);
    // The configured spacing, or the share of a rate limit other clusters spend too, whichever is wider.
    const request: LaneRequest = {
      registry,
      spacingMs: Math.max(own, q?.spacingMs ?? 0),
      wanted: list.length,
    };
    if (q?.notBefore !== undefined) request.notBefore = q.notBefore;
    if (q && q.spacingMs > own)
      deps.log.info(
        {
          registry: untrusted(registry),
          spacing_ms: Math.round(q.spacingMs),
          configured_ms: Math.round(own),
        },
        "probes spaced to this cluster's share of a shared rate limit",
      );
    if (q?.notBefore !== undefined)
      deps.log.info(
        { registry: untrusted(registry), until: isoMillis(q.notBefore) },
        'rate limit spent: no probe of this registry before it resets',
      );
    requests.push(request);
  }
  return { candidates, settings, requests, quotas };
}

/** 3. Slots in the ledger on the oldest CISA: one conditional status write, before any probe. */
async function reserveSlots(t: Tick, seen: Seen, lanes: Lanes): Promise<Lease> {
  const { deps, budget } = t;
  const holder = ledgerHolder(seen.cisas);
  const lease: Lease = { holder, leased: false, reservations: [] };
  if (!holder || lanes.requests.length === 0) return lease;
  const holderRef: KuikRef = { kind: 'ClusterImageSetAvailability', name: holder.metadata.name ?? '' };
  const known = new Set(seen.compiled.flatMap((c) => c.images.flatMap((i) => registryOf(i.image) ?? [])));
  const latest = latestProbes(seen.compiled);
  let refusal: { holder: string; until: string } | undefined;
  const written = await deps.kube.updateStatus<ClusterImageSetAvailability>(holderRef, (o) => {
    const r = reserve(o.status?.monitoring, lanes.requests, {
      tickId: t.id,
      now: deps.now(),
      probeDeadline: budget.probeDeadline,
      leaseUntil: budget.hard,
      latest,
      known,
    });
    if (!r.ok) {
      refusal = r.error;
      return false;
    }
    refusal = undefined;
    lease.reservations = r.value.reservations;
    // No slot before the deadline anywhere: no lease, no write.
    if (r.value.reservations.length === 0) return false;
    o.status = { ...o.status, monitoring: r.value.ledger };
    return true;
  });
  lease.leased = written !== undefined;
  if (refusal) {
    t.summary.outcome = 'LeaseHeld';
    deps.log.info({ tick: t.id, holder: refusal.holder, until: refusal.until }, 'another tick is probing');
  }
  return lease;
}

/**
 * 4. Probes in the reserved slots, every registry's lane in parallel, aborted at the budget's
 * abort point; then the rate limits seen are published and tag drift judged.
 */
async function probeReserved(t: Tick, seen: Seen, lanes: Lanes, lease: Lease): Promise<Probed> {
  const { deps, summary, metrics } = t;
  const probed = noProbes();
  const observed = new Map<string, QuotaRecord>();
  const digests = new Map<string, string>();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, t.budget.abortAt - deps.now()));
  const secrets = readOnce(tickSecretReader(deps.kube));
  const keyrings = new KeyringCache();
  // Pull secrets come from the pods in scope of the CISAs that list the image (§6.4 step 1).
  const indexes = new Map(seen.valid.map((c) => [c.name, secretIndex(c.pods)]));
  const setsFor = (c: Candidate): SecretSet[] => {
    if (c.holders.length === 1) return indexes.get(c.holders[0] as string)?.get(c.image) ?? [];
    const found = new Set<SecretSet>();
    return c.holders
      .flatMap((h) => indexes.get(h)?.get(c.image) ?? [])
      .filter((s) => !found.has(s) && !!found.add(s));
  };
  try {
    await Promise.all(
      lease.reservations.map((r) =>
        runLane({
          deps,
          reservation: r,
          candidates: lanes.candidates.get(r.registry) ?? [],
          settings: lanes.settings.get(r.registry) as ResolvedRegistryMonitoring,
          setsFor,
          readSecret: secrets,
          keyrings,
          signal: abort.signal,
          sleep: deps.sleep ?? defaultSleep,
          results: probed.results,
          lastStart: probed.lastStart,
          observed,
          digests,
          quotaKnown: lanes.quotas.some((q) => q.registry === r.registry),
          summary,
          metrics,
        }),
      ),
    );
  } finally {
    clearTimeout(timer);
  }
  await writeQuotas(deps, observed, summary);
  await checkDrift({
    deps,
    pods: seen.pods,
    compiled: seen.valid,
    digests,
    results: probed.results,
    summary,
    metrics,
  });
  summary.outcome = summary.pending > 0 || summary.aborted > 0 ? 'BudgetExceeded' : 'Complete';
  return probed;
}

/**
 * 5. Every CISA but the ledger's, from the previous tick's cursor on, a few at a time until the
 * hard deadline; then the ledger CISA, always, with the lease released and the tick recorded.
 */
async function writeStatuses(t: Tick, seen: Seen, probed: Probed, lease: Lease): Promise<void> {
  const { deps, summary, budget } = t;
  const { holder } = lease;
  const others = rotate(
    seen.compiled.filter((c) => c.name !== holder?.metadata.name).sort((a, b) => (a.name < b.name ? -1 : 1)),
    holder?.status?.monitoring?.lastTick?.writeCursor,
  );
  let writeCursor: string | undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITE_CONCURRENCY }, async () => {
      for (;;) {
        const c = others[next++];
        if (!c) return;
        if (deps.now() >= budget.hard) {
          writeCursor ??= c.name;
          summary.writes.skipped++;
          continue;
        }
        await writeCisa(t, seen, probed, c);
      }
    }),
  );
  if (writeCursor) summary.outcome = summary.outcome === 'Complete' ? 'BudgetExceeded' : summary.outcome;
  const holderCompiled = seen.compiled.find((c) => c.name === holder?.metadata.name);
  if (!holderCompiled) return;
  const record: MonitorTickRecord = {
    startedAt: isoMillis(t.start),
    finishedAt: isoMillis(deps.now()),
    outcome: summary.outcome === 'BudgetExceeded' ? 'BudgetExceeded' : 'Complete',
    probed: summary.probed,
    pending: summary.pending,
    ...(writeCursor ? { writeCursor } : {}),
  };
  const ledger = lease.leased
    ? (stored: Parameters<typeof release>[0]) =>
        release(stored, t.id, lease.reservations, probed.lastStart, record)
    : undefined;
  await writeCisa(t, seen, probed, holderCompiled, ledger);
}

/** One CISA's status write (conditional, skipped when nothing changed), counted in the summary. */
async function writeCisa(
  t: Tick,
  seen: Seen,
  probed: Probed,
  c: CompiledCisa,
  ledger?: Parameters<typeof finalStatus>[0]['ledger'],
): Promise<void> {
  const { deps, summary, metrics } = t;
  const ref: KuikRef = { kind: 'ClusterImageSetAvailability', name: c.name };
  try {
    let changed = false;
    const r = await deps.kube.updateStatus<ClusterImageSetAvailability>(ref, (raw) => {
      const parsed = parseKuikObject('ClusterImageSetAvailability', raw);
      if (!parsed.ok || parsed.value.object.metadata.uid !== c.uid) return false;
      const status = finalStatus({
        stored: parsed.value.object,
        compiled: c,
        allOriginals: seen.originals,
        results: probed.results,
        ledger,
        now: t.start,
      });
      changed = status !== undefined;
      if (status) raw.status = status;
      return changed;
    });
    const result = r ? 'written' : changed ? 'gone' : 'unchanged';
    summary.writes[result]++;
    metrics?.statusWrites.inc({ result });
  } catch (err) {
    summary.writes.failed++;
    metrics?.statusWrites.inc({ result: 'failed' });
    summary.errors.push(`status of ${c.name}: ${apiMessage(err)}`);
    deps.log.warn({ cisa: c.name, err: apiMessage(err) }, 'status write failed');
  }
}

/** The tick's metrics and its one log line. */
function recordTick(t: Tick): void {
  const { summary, metrics } = t;
  const duration = Date.parse(summary.finishedAt) - t.start;
  metrics?.ticks.inc({ outcome: summary.outcome });
  metrics?.tickDuration.observe(duration / 1000);
  t.deps.log.info(
    {
      tick: t.id,
      outcome: summary.outcome,
      cisas: summary.cisas,
      probed: summary.probed,
      pending: summary.pending,
      aborted: summary.aborted,
      writes: summary.writes,
      duration_ms: duration,
    },
    'tick',
  );
}

/** `list` starting at the entry named `from` (when present), wrapping around. */
function rotate<T extends { name: string }>(list: T[], from: string | undefined): T[] {
  const i = from === undefined ? -1 : list.findIndex((x) => x.name >= from);
  return i <= 0 ? list : [...list.slice(i), ...list.slice(0, i)];
}

/**
 * Secret reads of the tick (memoized by readOnce: many images share the same pull secrets). A
 * missing Secret is an error here, with the API server's words, as §6.4 reports it.
 */
function tickSecretReader(kube: Kube): ReadSecret {
  return (namespace, name) =>
    kube.getSecret(namespace, name).catch((err: unknown) => {
      throw new Error(apiMessage(err));
    });
}

interface LaneInput {
  deps: MonitorDeps;
  reservation: Reservation;
  candidates: readonly Candidate[];
  settings: ResolvedRegistryMonitoring;
  setsFor: (c: Candidate) => SecretSet[];
  readSecret: ReadSecret;
  keyrings: KeyringCache;
  signal: AbortSignal;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  results: Map<string, ProbeRecord>;
  lastStart: Map<string, number>;
  /** The newest rate-limit record per (registry, credential), to publish for other clusters. */
  observed: Map<string, QuotaRecord>;
  /**
   * Set by a probe refused for quota while quotas are shared: the lane starts no more probes, which
   * the registry would refuse too (and some registries count refusals).
   */
  quotaSpent?: boolean;
  /** Some cluster reported a rate limit of this registry (the reservation is paced to it). */
  quotaKnown: boolean;
  /** What each image's tag named when probed Available (its HEAD's digest), for tag drift. */
  digests: Map<string, string>;
  summary: TickSummary;
  metrics: MonitorMetrics | undefined;
}

/** Every cluster's quota records, as pacing (none when sharing is off or the registry fails). */
async function readQuotas(deps: MonitorDeps, summary: TickSummary) {
  if (!deps.quota) return [];
  try {
    return quotaPacing(await deps.quota.store.read(), deps.quota.cluster, deps.now());
  } catch (err) {
    const m = errorMessage(err);
    summary.errors.push(`reading shared quota records: ${m}`);
    deps.log.warn({ err: m }, 'could not read shared quota records: pacing on the configured spacing only');
    return [];
  }
}

async function writeQuotas(
  deps: MonitorDeps,
  observed: ReadonlyMap<string, QuotaRecord>,
  summary: TickSummary,
) {
  if (!deps.quota) return;
  for (const r of observed.values()) {
    try {
      await deps.quota.store.write(r);
    } catch (err) {
      const m = errorMessage(err);
      summary.errors.push(`writing the shared quota record of ${r.registry}: ${m}`);
      deps.log.warn({ registry: untrusted(r.registry), err: m }, 'could not write the shared quota record');
    }
  }
}

/**
 * One registry's probes: at most `count`, each started at max(now, reservation start, previous
 * start + spacing) and before the probe deadline, with at most probeConcurrency in flight.
 */
async function runLane(l: LaneInput): Promise<void> {
  const { deps, reservation: r, settings } = l;
  const inflight = new Set<Promise<void>>();
  let prev: number | undefined;
  let launched = 0;
  for (const c of l.candidates.slice(0, r.count)) {
    while (inflight.size >= deps.config.monitoring.probeConcurrency) await Promise.race(inflight);
    if (l.signal.aborted || l.quotaSpent) break;
    const creds = await resolveCredentials(
      c.image,
      l.setsFor(c),
      settings.fallbackCredentialSecret,
      l.readSecret,
      l.keyrings,
    );
    let at = nextStart(r, prev, deps.now());
    while (at !== undefined && deps.now() < at && !l.signal.aborted) {
      await l.sleep(at - deps.now(), l.signal);
      at = nextStart(r, prev, deps.now());
    }
    // Re-read the clock: a late wake-up must not start at or past the deadline.
    const t = deps.now();
    if (at === undefined || t < at || t >= r.deadline || l.signal.aborted || l.quotaSpent) break;
    prev = t;
    launched++;
    l.lastStart.set(r.registry, t);
    deps.onProbeStart?.(r.registry, t);
    const p = probeOne(l, c, creds, t).finally(() => inflight.delete(p));
    inflight.add(p);
    if (deps.quota && !l.quotaKnown && launched === 1) {
      // A registry whose rate limit no cluster has reported: its first answer tells whether it has
      // one. If it does, the rest waits for the next tick, which paces to its share of it.
      await p;
      if ([...l.observed.values()].some((o) => o.registry === r.registry)) break;
    }
  }
  await Promise.all(inflight);
  l.summary.pending += r.count - launched;
}

async function probeOne(
  l: LaneInput,
  c: Candidate,
  creds: Awaited<ReturnType<typeof resolveCredentials>>,
  at: number,
): Promise<void> {
  const { deps, settings } = l;
  const t0 = performance.now();
  let outcome: Outcome;
  let message: string;
  let rateLimit: RateLimit | undefined;
  let descriptor: { digest: string } | undefined;
  try {
    ({ outcome, message, rateLimit, descriptor } = await deps.probe(c.image, {
      method: settings.method,
      timeoutMs: settings.timeout,
      resolveDigest: settings.resolveDigest,
      credentials: creds.credentials,
      signal: l.signal,
    }));
  } catch (err) {
    outcome = 'Unreachable';
    message = `registry unreachable: ${c.image}: ${errorMessage(err)}`;
  }
  if (l.signal.aborted && outcome === 'Unreachable') {
    // Our own deadline, not the registry's answer; still a probe the registry did not answer in time.
    l.summary.aborted++;
    message = `registry unreachable: ${c.image}: no answer before the monitor tick's time budget ran out (monitoring.tickBudget; set monitoring.registries.*.timeout below it)`;
  }
  if (deps.quota && outcome === 'QuotaExceeded') l.quotaSpent = true;
  if (outcome === 'Available' && descriptor) l.digests.set(c.image, descriptor.digest);
  if (deps.quota) {
    const credential = quotaCredential(rateLimit, creds.credentials[0]?.username);
    const rec = recordOf(rateLimit, {
      cluster: deps.quota.cluster,
      registry: c.registry,
      credential,
      observedAt: at,
    });
    const k = quotaKey(c.registry, credential);
    const prev = l.observed.get(k);
    if (rec && (!prev || prev.observedAt <= rec.observedAt)) l.observed.set(k, rec);
  }
  const v = verdict(creds.error, { outcome, message });
  l.results.set(c.image, { status: v.status, lastError: v.lastError, at });
  l.summary.probed++;
  l.metrics?.probes.inc({ registry: c.registry, result: v.status });
  l.metrics?.probeDuration.observe({ registry: c.registry }, (performance.now() - t0) / 1000);
  deps.log.info(
    {
      image: untrusted(c.image),
      registry: untrusted(c.registry),
      cisas: c.holders,
      credentials: creds.from,
      result: v.status,
      ...(v.lastError ? { error: untrusted(v.lastError) } : {}),
      lastMonitor: rfc3339(at),
      duration_ms: Math.round(performance.now() - t0),
    },
    'probed',
  );
}

interface DriftInput {
  deps: MonitorDeps;
  pods: readonly V1Pod[];
  compiled: readonly CompiledCisa[];
  digests: ReadonlyMap<string, string>;
  results: Map<string, ProbeRecord>;
  summary: TickSummary;
  metrics: MonitorMetrics | undefined;
}

const MIRROR_SETS = ['ImageSetMirror', 'ClusterImageSetMirror'] as const;

/**
 * Tag drift (docs/tag-drift.md), for the tags probed Available this tick: no request to a registry
 * beyond the probe's HEAD. Reads the pods the tick listed and the mirror sets (one list each, only
 * when some tag was probed), records the verdict with the probe result, and acts as configured.
 */
async function checkDrift(d: DriftInput): Promise<void> {
  const { deps, summary } = d;
  const tags = [...d.digests].filter(([image]) => isTagReference(image));
  if (tags.length === 0) return;
  let sets: (ImageSetMirror | ClusterImageSetMirror)[];
  try {
    sets = (
      await Promise.all(
        MIRROR_SETS.map(async (kind) => {
          const items = await listKuik(deps.kube, kind);
          return items.flatMap((item) => {
            const r = parseKuikObject(kind, item);
            return r.ok ? [r.value.object as ImageSetMirror | ClusterImageSetMirror] : [];
          });
        }),
      )
    ).flat();
  } catch (err) {
    summary.errors.push(`tag drift: listing mirror sets: ${apiMessage(err)}`);
    return;
  }
  const pods = d.pods.filter((p) => !deps.skip(p));
  const action = deps.config.monitoring.tagDrift.action;
  for (const [image, upstream] of tags) {
    const record = d.results.get(image);
    if (!record) continue;
    const holders = d.compiled.filter((c) => c.images.some((i) => i.image === image));
    const previous = holders.flatMap((c) => c.images.find((i) => i.image === image)?.drift ?? [])[0];
    const verdict = judgeDrift({
      image,
      upstream,
      running: runningDigests(pods, image),
      mirrors: mirrorsOf(sets, image),
      action,
      previous,
      now: rfc3339(record.at),
    });
    record.drift = verdict.drift ?? null;
    if (!verdict.drift) continue;
    const registry = registryOf(image) ?? '';
    if (verdict.isNew) {
      d.metrics?.tagDrifts.inc({ registry, action: verdict.drift.action ?? 'Reported' });
      const note = driftNote(image, verdict.drift);
      deps.log.warn({ image: untrusted(image), drift: verdict.drift }, 'tag drift');
      const first = holders[0];
      if (first) await deps.warn(first.cisa, 'TagDrift', note, 'TagDriftDetected');
    }
    for (const change of verdict.changes) {
      const ref: KuikRef =
        change.set.kind === 'ImageSetMirror'
          ? {
              kind: 'ImageSetMirror',
              name: change.set.metadata.name ?? '',
              namespace: change.set.metadata.namespace ?? '',
            }
          : { kind: 'ClusterImageSetMirror', name: change.set.metadata.name ?? '' };
      try {
        await deps.kube.updateStatus<ImageSetMirror | ClusterImageSetMirror>(ref, (o) =>
          applyMirrorChange(o.status, image, change),
        );
        deps.log.info(
          { image: untrusted(image), mirror: untrusted(change.mirror), change: change.kind },
          change.kind === 'remirror'
            ? 'tag drift: mirror to be copied again from the tag'
            : 'tag drift: mirror pinned to the running digest',
        );
      } catch (err) {
        summary.errors.push(`tag drift: ${change.kind} ${change.mirror}: ${apiMessage(err)}`);
      }
    }
  }
}
