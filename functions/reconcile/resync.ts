// The full resync, reconcile's own: every mirror set, secret owner and replicated image set
// reconciled once (reconcileAll), on a schedule of its own (a PingSource on reconcile,
// manifests/reconcile/ping.yaml; OpenFaaS's cron-connector). It is the net under the
// ApiServerSource's lost events (knative notes §1.3), and what checks that mirrored images are
// still in their registries.
//
// One at a time, and within a budget: the endpoint takes unauthenticated POSTs, so a resync runs
// only when none is running and the last one started `minIntervalMs` ago (shared/tick/gate.ts;
// the others are answered `coalesced` at once), and no CR starts once the budget's abort point is
// passed (shared/tick/budget.ts, the monitor tick's own plan), so what is under way ends by the
// budget. A resync cut short says `partial` and the next one starts elsewhere in the lists.
import { apiMessage } from '#shared/kube/client.ts';
import { budgetPlan } from '#shared/tick/budget.ts';
import { TickGate } from '#shared/tick/gate.ts';
import type { ReconcileMetrics } from './metrics.ts';
import type { ReconcileDeps } from './mirror-set.ts';
import type { ResyncOptions, Summary } from './server.ts';

export interface ResyncSettings {
  /** `monitoring.tickBudget`: the resync is the safety net the monitor's tick used to run. */
  budgetMs: number;
  /** `monitoring.minTickInterval`: resyncs start at most this often. */
  minIntervalMs: number;
}

/** What a trigger is answered: the HTTP status and the body. */
export interface ResyncAnswer {
  status: 200 | 503;
  body: ResyncReport;
}

export type ResyncReport =
  | {
      resync: 'ok' | 'partial';
      startedAt: string;
      finishedAt: string;
      /** CRs not reached before the budget's abort point. */
      notReached: number;
      reconciled: { mirrorSets: number; secretOwners: number; replicated: number };
      /** Reconciles that threw (the others still ran); the next resync tries them again. */
      failed: { cr: string; error: string }[];
    }
  | { resync: 'coalesced'; reason: 'Running' | 'TooSoon'; since: string; event: string | null }
  | { resync: 'failed'; startedAt: string; error: string };

const iso = (ms: number) => new Date(ms).toISOString();
const crName = (r: Summary['failed'][number]['ref']) =>
  `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

/**
 * The resync trigger's handler: `run` is reconcileAll with reconcile's deps (injected so a test
 * can stand in for a cluster-wide resync).
 */
export function createResync(
  deps: Pick<ReconcileDeps, 'log' | 'now'>,
  m: ReconcileMetrics,
  settings: ResyncSettings,
  run: (opts: ResyncOptions) => Promise<Summary>,
): (trigger: { via: string; id?: string }) => Promise<ResyncAnswer> {
  const gate = new TickGate(settings.minIntervalMs, deps.now);
  return async (trigger) => {
    const admission = gate.admit();
    if (!admission.run) {
      m.resyncs.inc({ result: 'coalesced' });
      const since = admission.reason === 'Running' ? admission.runningSince : admission.lastTickAt;
      return {
        status: 200,
        body: { resync: 'coalesced', reason: admission.reason, since: iso(since), event: trigger.id ?? null },
      };
    }
    const start = admission.startedAt;
    let ok = false;
    try {
      const s = await run({ stopAt: budgetPlan(start, settings.budgetMs).abortAt });
      const finished = deps.now();
      const result = s.notReached > 0 ? 'partial' : 'ok';
      m.resyncs.inc({ result });
      m.resyncDuration.observe((finished - start) / 1000);
      const reconciled = {
        mirrorSets: s.mirrorSets.length,
        secretOwners: s.secretOwners.length,
        replicated: s.replicated.length,
      };
      if (result === 'partial')
        deps.log.warn(
          { not_reached: s.notReached },
          'resync stopped at its budget (monitoring.tickBudget); the next one starts elsewhere in the list',
        );
      deps.log.info(
        { via: trigger.via, result, ...reconciled, failed: s.failed.length, duration_ms: finished - start },
        'resync',
      );
      ok = true;
      return {
        status: 200,
        body: {
          resync: result,
          startedAt: iso(start),
          finishedAt: iso(finished),
          notReached: s.notReached,
          reconciled,
          failed: s.failed.map((f) => ({ cr: crName(f.ref), error: f.error })),
        },
      };
    } catch (err) {
      // The lists every resync starts with failed: the sender retries (mtping on a 503).
      m.resyncs.inc({ result: 'failed' });
      const error = apiMessage(err);
      deps.log.warn({ via: trigger.via, err: error }, 'resync failed, asking for a retry');
      return { status: 503, body: { resync: 'failed', startedAt: iso(start), error } };
    } finally {
      gate.done(ok);
    }
  };
}
