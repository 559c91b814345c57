// Budgets of a key, its user and its team, per UTC day and month: before the call the request's worst-case
// cost is reserved on each (estimated input × input price + the most output it may produce × output price);
// at finish the reservation is replaced by the real cost (admission.ts). A counter this process has not used
// in the current window is first seeded from the ledger (UsageAnalytics.spentSince), once per window, so a
// restarted gateway does not start its month at $0; concurrent requests wait for the one seed.
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { windowOf, type Window } from '../core/windows.ts';
import type { BudgetLimits, BudgetScope } from '../store/ports.ts';
import { auditRequest, type AccessDeps } from './access.ts';
import type { Admission } from './admission.ts';

const PERIODS = ['day', 'month'] as const;

interface Seed {
  /** The window seeded (or being seeded). */
  start: number;
  /** Until the seed is written; undefined once it is. */
  pending: Promise<void> | undefined;
}

export class BudgetGate {
  readonly #deps: AccessDeps;
  /** Counter key → its seed in this process. */
  readonly #seeds = new Map<string, Seed>();

  constructor(deps: AccessDeps) {
    this.#deps = deps;
  }

  /** Reserves `worstUsd` on each period `limits` caps for (scope, id); throws GW_BUDGET_EXCEEDED when one is spent (admit gives back what the request took). */
  async reserve(ctx: RequestContext, admission: Admission, scope: BudgetScope, id: string, limits: BudgetLimits, worstUsd: number): Promise<void> {
    const { counters, recorder } = this.#deps;
    for (const period of PERIODS) {
      const limit = period === 'day' ? limits.dailyUsd : limits.monthlyUsd;
      if (limit === undefined) continue;
      const now = (this.#deps.now ?? Date.now)();
      const window = windowOf(period, now);
      const key = `budget:${scope}:${id}:${period}`;
      const seeding = this.#seed(key, scope, id, window);
      if (seeding) await seeding;
      const reservation = await counters.reserve(key, worstUsd, limit, window);
      if (reservation.granted) {
        admission.budgets.push({ reservation, scope, id, period, limit });
        recorder.quotaUsed(scope, id, period, reservation.used / limit);
        continue;
      }
      if (reservation.degraded && counters.failureMode === 'closed') throw new GatewayError('GW_LIMITS_UNAVAILABLE');
      recorder.budgetExceeded(scope, period);
      recorder.quotaUsed(scope, id, period, reservation.used / limit);
      auditRequest(this.#deps.audit, ctx, 'budget.exceeded', {
        scope, period, limit_usd: limit, used_usd: round(reservation.used),
      }, { now });
      throw new GatewayError('GW_BUDGET_EXCEEDED', `the ${scope}'s ${period === 'day' ? 'daily' : 'monthly'} budget of $${limit} is spent`);
    }
  }

  /** Starts (or joins) the seed of `key` for `window`; undefined once it is written. */
  #seed(key: string, scope: BudgetScope, id: string, window: Window): Promise<void> | undefined {
    const analytics = this.#deps.analytics;
    if (!analytics) return undefined;
    const known = this.#seeds.get(key);
    if (known && known.start === window.start) return known.pending;
    const seed: Seed = { start: window.start, pending: undefined };
    seed.pending = analytics.spentSince(scope, id, window.start)
      .then((spent) => this.#deps.counters.seed(key, window, spent))
      .then(() => { seed.pending = undefined; }, (err: unknown) => {
        // Unseeded, the counter starts from this process's own spend; the next request tries again.
        this.#seeds.delete(key);
        this.#deps.debug?.debug({ err, scope, id }, 'budget seed failed');
      });
    this.#seeds.set(key, seed);
    return seed.pending;
  }
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
