// The parts of a tick's time budget (`monitoring.tickBudget`), shared by the monitor's tick and
// reconcile's full resync so that both stop the same way: work starts until `probeDeadline`
// (the monitor's probes), nothing new starts at `abortAt` (probes still running are aborted, no CR
// of a resync starts), and writes end at `hard`.
export interface BudgetPlan {
  hard: number;
  abortAt: number;
  probeDeadline: number;
}

export function budgetPlan(start: number, budgetMs: number): BudgetPlan {
  const reserve = Math.min(10_000, Math.max(200, budgetMs * 0.15));
  const drain = Math.min(10_000, Math.max(200, budgetMs * 0.15));
  const hard = start + budgetMs;
  return { hard, abortAt: hard - reserve, probeDeadline: hard - reserve - drain };
}
