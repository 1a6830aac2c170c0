// The one Kubernetes access module: kubeconfig loading, kuik CR reads and status writes with
// optimistic concurrency, Secrets and Events. Functions call these; nobody else builds API paths.

import { hostname } from 'node:os';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  createConfiguration,
  EventsV1Api,
  type EventsV1Event,
  KubeConfig,
  PatchStrategy,
  ServerConfiguration,
  setHeaderMiddleware,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import { GROUP, KINDS, type KuikKind, VERSION } from '../crd/types.ts';
import { errorMessage } from '../errors.ts';
import {
  type EventFacts,
  type EventRegarding,
  eventNote,
  type StoredEventRef,
  sameEvent,
  seriesKey,
  seriesPatch,
} from './event-series.ts';
import { kubeApiTimeoutFromEnv, timeoutHttpLibrary } from './timeout.ts';

/** In a cluster: the ServiceAccount; elsewhere: $KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export function pluralOf(kind: KuikKind): string {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`unknown kind ${kind}`);
  return info.plural;
}

/** The URL path of a kuik kind's collection in every namespace, for a watch. */
export function collectionPath(kind: KuikKind): string {
  return `/apis/${GROUP}/${VERSION}/${pluralOf(kind)}`;
}

/** The URL path of a core (`v1`) resource's collection in every namespace: `secrets`, `pods`. */
export function coreCollectionPath(resource: string): string {
  return `/api/v1/${resource}`;
}

/**
 * Every object of a kuik kind: of `namespace` for a namespaced kind (every namespace when absent),
 * narrowed by `labelSelector`. Untyped items: callers parse them (shared/crd/schemas.ts) or trust
 * them as the API server's own.
 */
export async function listKuik<T = unknown>(
  kube: Pick<Kube, 'custom'>,
  kind: KuikKind,
  opts: { namespace?: string | undefined; labelSelector?: string | undefined } = {},
): Promise<T[]> {
  const base = {
    group: GROUP,
    version: VERSION,
    plural: pluralOf(kind),
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
  };
  const list = opts.namespace
    ? await kube.custom.listNamespacedCustomObject({ ...base, namespace: opts.namespace })
    : await kube.custom.listClusterCustomObject(base);
  return (list as { items: T[] }).items;
}

/** The HTTP status of a failed API call (0 when it is not an API error). */
export function apiStatus(err: unknown): number {
  return err instanceof ApiException ? err.code : 0;
}

/** The API server's own message for a failed call (its Status.message), else the error text. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    const parsed = typeof body === 'string' ? safeJson(body) : body;
    const msg = (parsed as { message?: unknown } | undefined)?.message;
    if (typeof msg === 'string') return msg;
  }
  return errorMessage(err);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/**
 * events.k8s.io wants `eventTime` as a MicroTime (six fractional digits); client-node serializes
 * a Date with three, which the API server refuses. A Date that prints itself with six.
 */
function eventSuffix(): string {
  return (BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16);
}

export function microTime(d: Date): Date {
  const iso = d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  return Object.assign(new Date(d.getTime()), { toISOString: () => iso, toJSON: () => iso });
}

export interface KuikRef {
  kind: KuikKind;
  name: string;
  /** Empty or undefined for the cluster-scoped kinds. */
  namespace?: string | undefined;
}

/** A new events.k8s.io Event for `count` occurrences (a series from the start when more than one). */
function newEvent(namespace: string, regarding: EventRegarding, e: EventFacts, count: number): EventsV1Event {
  const now = microTime(new Date());
  return {
    // Named as Kubernetes names its own events: `<object>.<hex nanoseconds>`.
    metadata: { name: `${regarding.name.slice(0, 200)}.${eventSuffix()}`, namespace },
    eventTime: now,
    ...(count > 1 ? { series: { count, lastObservedTime: now } } : {}),
    type: e.type,
    reason: e.reason,
    action: e.action,
    note: eventNote(e.note),
    reportingController: e.controller,
    reportingInstance: hostname(),
    regarding: { ...regarding, ...(regarding.namespace ? {} : { namespace: undefined }) },
  };
}

export class Kube {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly events: EventsV1Api;
  readonly #eventWrites = new Map<string, Promise<string | undefined>>();

  constructor(
    kc: KubeConfig,
    opts: {
      /** Deadline of each API call in ms, 0 for none; default: KUBE_API_TIMEOUT_MS, else 30 s. */
      requestTimeoutMs?: number;
    } = {},
  ) {
    this.kc = kc;
    // What kc.makeApiClient builds, plus a deadline per call (timeout.ts): client-node has none.
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster');
    const config = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      middleware: [setHeaderMiddleware('User-Agent', 'kuik-functions')],
      httpApi: timeoutHttpLibrary(opts.requestTimeoutMs ?? kubeApiTimeoutFromEnv()),
    });
    this.core = new CoreV1Api(config);
    this.custom = new CustomObjectsApi(config);
    this.events = new EventsV1Api(config);
  }

  async getKuik<T>(ref: KuikRef): Promise<T> {
    const base = { group: GROUP, version: VERSION, plural: pluralOf(ref.kind), name: ref.name };
    return (
      ref.namespace
        ? await this.custom.getNamespacedCustomObject({ ...base, namespace: ref.namespace })
        : await this.custom.getClusterCustomObject(base)
    ) as T;
  }

  async replaceKuikStatus<T>(ref: KuikRef, body: T): Promise<T> {
    const base = { group: GROUP, version: VERSION, plural: pluralOf(ref.kind), name: ref.name, body };
    return (
      ref.namespace
        ? await this.custom.replaceNamespacedCustomObjectStatus({ ...base, namespace: ref.namespace })
        : await this.custom.replaceClusterCustomObjectStatus(base)
    ) as T;
  }

  /**
   * The one status writer: read the object, let `mutate` change its status (return false to
   * write nothing), write it back with the read resourceVersion as precondition, and start over on
   * 409. kuik v2 used blind merge patches here and lost concurrent updates.
   */
  async updateStatus<T extends { metadata?: { resourceVersion?: string }; status?: unknown }>(
    ref: KuikRef,
    mutate: (obj: T) => boolean,
    /** The object as just read: the first attempt starts from (a copy of) it instead of a GET. */
    from?: T,
  ): Promise<T | undefined> {
    return await this.#readModifyWrite(ref, mutate, (obj) => this.replaceKuikStatus(ref, obj), from);
  }

  async replaceKuik<T>(ref: KuikRef, body: T): Promise<T> {
    const base = { group: GROUP, version: VERSION, plural: pluralOf(ref.kind), name: ref.name, body };
    return (
      ref.namespace
        ? await this.custom.replaceNamespacedCustomObject({ ...base, namespace: ref.namespace })
        : await this.custom.replaceClusterCustomObject(base)
    ) as T;
  }

  /** Read-modify-write of the whole object (finalizers), like updateStatus. */
  async updateObject<T extends { metadata?: { resourceVersion?: string } }>(
    ref: KuikRef,
    mutate: (obj: T) => boolean,
  ): Promise<T | undefined> {
    return await this.#readModifyWrite(ref, mutate, (obj) => this.replaceKuik(ref, obj));
  }

  /**
   * GET, mutate, PUT with the read resourceVersion; on 409 start over after a short jittered pause
   * (writers racing on one object would otherwise collide again in lockstep). Undefined when
   * `mutate` declines or the object is gone.
   */
  async #readModifyWrite<T>(
    ref: KuikRef,
    mutate: (obj: T) => boolean,
    write: (obj: T) => Promise<T>,
    from?: T,
  ): Promise<T | undefined> {
    const attempts = 12;
    for (let i = 1; ; i++) {
      let obj: T;
      try {
        // A stale `from` costs one 409 and a GET, as a concurrent writer would.
        obj = i === 1 && from !== undefined ? structuredClone(from) : await this.getKuik<T>(ref);
      } catch (err) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
      if (!mutate(obj)) return undefined;
      try {
        return await write(obj);
      } catch (err) {
        if (apiStatus(err) === 404) return undefined;
        if (apiStatus(err) !== 409 || i >= attempts) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(i, 5)));
      }
    }
  }

  /**
   * An events.k8s.io Event about a kuik CR (or any object), for `kubectl describe`. A repeat of an
   * event still stored (same object, type, reason, action, note, controller) bumps that event's
   * series instead of writing a new one (event-series.ts). A failure is returned as its message,
   * not thrown: an event is never worth failing the work it reports on.
   */
  async recordEvent(regarding: EventRegarding, e: EventFacts): Promise<string | undefined> {
    const namespace = regarding.namespace || 'default';
    const key = seriesKey(namespace, regarding, e);
    // One write at a time per key in this process: concurrent repeats would race on the series.
    const previous = this.#eventWrites.get(key) ?? Promise.resolve();
    const mine = previous.then(() => this.#writeEvent(namespace, regarding, e));
    this.#eventWrites.set(key, mine);
    try {
      return await mine;
    } finally {
      if (this.#eventWrites.get(key) === mine) this.#eventWrites.delete(key);
    }
  }

  async #writeEvent(
    namespace: string,
    regarding: EventRegarding,
    e: EventFacts,
  ): Promise<string | undefined> {
    try {
      for (let attempt = 1; attempt <= 10; attempt++) {
        if (attempt > 1) await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt, 5)));
        // Not allowed to list (a role from before series), or the list failed: a new event is
        // better than none.
        const stored = await this.#storedEvent(namespace, regarding, e).catch(() => undefined);
        if (!stored?.metadata?.name) break;
        const name = stored.metadata.name;
        try {
          // A merge patch of the series alone, with the read resourceVersion as precondition: a
          // full replace would send back eventTime, which client-node rounds to milliseconds and
          // events.k8s.io keeps immutable.
          await this.events.patchNamespacedEvent(
            { namespace, name, body: seriesPatch(stored, microTime(new Date())) },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          return undefined;
        } catch (err) {
          // Changed by another writer (409): read it again, after a jittered pause, and add to its
          // count. Gone (events expire after an hour), not allowed to patch, or ten losses in a
          // row: write a new one.
          if (apiStatus(err) !== 409) break;
        }
      }
      await this.events.createNamespacedEvent({ namespace, body: newEvent(namespace, regarding, e, 1) });
      return undefined;
    } catch (err) {
      return errorMessage(err);
    }
  }

  /**
   * Adds `add` occurrences of an event (counted in memory by an EventAggregator) in one write: a
   * merge patch of the series of `known` (what the last call returned: no read needed), else of
   * the stored event found by a list, else a new event whose series starts at `add`. Throws on
   * failure; the caller decides what a lost count is worth.
   */
  async addToEventSeries(
    regarding: EventRegarding,
    e: EventFacts,
    add: number,
    known?: StoredEventRef,
  ): Promise<StoredEventRef> {
    const namespace = regarding.namespace || 'default';
    let stored = known;
    for (let attempt = 1; attempt <= 10; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt, 5)));
      if (!stored) {
        const found = await this.#storedEvent(namespace, regarding, e).catch(() => undefined);
        if (!found?.metadata?.name) break;
        stored = {
          name: found.metadata.name,
          resourceVersion: found.metadata.resourceVersion ?? '',
          count: found.series?.count ?? 1,
        };
      }
      try {
        const patched = await this.events.patchNamespacedEvent(
          {
            namespace,
            name: stored.name,
            body: seriesPatch(
              {
                metadata: { resourceVersion: stored.resourceVersion },
                series: { count: stored.count },
              } as never,
              microTime(new Date()),
              add,
            ),
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return {
          name: stored.name,
          resourceVersion: patched.metadata?.resourceVersion ?? '',
          count: patched.series?.count ?? stored.count + add,
        };
      } catch (err) {
        // 409: another writer (replica) added to it: read it again. Gone (events expire after an
        // hour) or not allowed to patch: write a new one.
        if (apiStatus(err) !== 409) break;
        stored = undefined;
      }
    }
    const created = await this.events.createNamespacedEvent({
      namespace,
      body: newEvent(namespace, regarding, e, add),
    });
    return {
      name: created.metadata?.name ?? '',
      resourceVersion: created.metadata?.resourceVersion ?? '',
      count: created.series?.count ?? 1,
    };
  }

  /**
   * The stored earlier occurrence of an event, if any: a list filtered on the object's name and
   * the reason (the API server indexes neither, but events of one name and reason are few). Not
   * remembered in the process: functions scale to zero, and the list also finds what another
   * replica wrote.
   */
  async #storedEvent(
    namespace: string,
    regarding: EventRegarding,
    e: EventFacts,
  ): Promise<EventsV1Event | undefined> {
    const list = await this.events.listNamespacedEvent({
      namespace,
      fieldSelector: `regarding.name=${regarding.name},reason=${e.reason}`,
    });
    return list.items.filter((item) => sameEvent(item, regarding, e)).at(-1);
  }

  async getSecret(namespace: string, name: string): Promise<V1Secret> {
    return await this.core.readNamespacedSecret({ namespace, name });
  }

  /** Creates the Secret, or replaces it when it exists (used for pull-secret copies). */
  async upsertSecret(secret: V1Secret, dryRun: boolean): Promise<void> {
    const namespace = secret.metadata?.namespace ?? '';
    const name = secret.metadata?.name ?? '';
    const dr = dryRun ? { dryRun: 'All' } : {};
    try {
      await this.core.createNamespacedSecret({ namespace, body: secret, ...dr });
    } catch (err) {
      if (apiStatus(err) !== 409) throw err;
      const current = await this.core.readNamespacedSecret({ namespace, name });
      await this.core.replaceNamespacedSecret({
        namespace,
        name,
        body: {
          ...secret,
          metadata: { ...secret.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' },
        },
        ...dr,
      });
    }
  }
}
