// Admit: after the model is known (accept, plan), before dispatch. Checks that the key may use the model,
// then takes what the request needs from its limits — a parallel slot, its estimated tokens from the TPM,
// its worst-case cost from every budget of its key, user and team, one request from the RPM — refusing with
// 403, 429 or 503 and giving back what it took so far. What it holds goes on the context for finish to settle
// (settle.ts). On a key with no limits and no budgets it does nothing but one WeakMap read: what each
// Principal needs is worked out once, the first time it is seen. An open gateway's anonymous requests pass.
import type { RequestContext, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { ANONYMOUS, type Principal } from '../core/principal.ts';
import type { BudgetLimits } from '../store/ports.ts';
import { auditRequest, type AccessDeps } from './access.ts';
import { Admission } from './admission.ts';
import { BudgetGate } from './budgets.ts';
import { estimateRequest } from './estimate.ts';
import { acquireParallel, countRequest, rateKeys, reserveTokens, type RateKeys } from './rate-limits.ts';

/** What one Principal's requests are checked against, compiled once per Principal. */
interface Plan {
  readonly models: ReadonlySet<string> | undefined;
  readonly rpm: number | undefined;
  readonly tpm: number | undefined;
  readonly maxParallel: number | undefined;
  readonly budget: BudgetLimits | undefined;
  /** Any of the above but models: the request must take something from the counters. */
  readonly limited: boolean;
  readonly keys: RateKeys;
}

function planOf(principal: Principal): Plan {
  const limits = principal.limits ?? {};
  const budget = principal.budget && (principal.budget.dailyUsd !== undefined || principal.budget.monthlyUsd !== undefined) ? principal.budget : undefined;
  const rpm = limits.requestsPerMinute;
  const tpm = limits.tokensPerMinute;
  const maxParallel = limits.maxParallel;
  return {
    models: principal.allowedModels && new Set(principal.allowedModels),
    rpm, tpm, maxParallel, budget,
    limited: rpm !== undefined || tpm !== undefined || maxParallel !== undefined || budget !== undefined,
    keys: rateKeys(principal.id),
  };
}

export function createAdmit(deps: AccessDeps): Stage {
  const plans = new WeakMap<Principal, Plan>();
  const budgets = new BudgetGate(deps);
  const store = deps.budgets;

  const limited = async (ctx: RequestContext, plan: Plan, user: BudgetLimits | undefined, team: BudgetLimits | undefined): Promise<void> => {
    const admission = new Admission(deps);
    const headers: Record<string, string> = {};
    try {
      await take(ctx, plan, user, team, admission, headers);
    } catch (err) {
      admission.release(); // refused: what was taken goes back
      throw err;
    }
    ctx.admission = admission;
    if (plan.rpm !== undefined || plan.tpm !== undefined) ctx.reply.addHeaders?.(headers);
  };

  const take = async (ctx: RequestContext, plan: Plan, user: BudgetLimits | undefined, team: BudgetLimits | undefined, admission: Admission, headers: Record<string, string>): Promise<void> => {
    const principal = ctx.principal;
    const estimate = plan.tpm !== undefined || plan.budget || user || team ? estimateRequest(ctx, deps.config.budgets.default_max_output_tokens) : undefined;
    if (plan.maxParallel !== undefined) await acquireParallel(deps, ctx, admission, plan.keys.parallel, plan.maxParallel);
    if (plan.tpm !== undefined) await reserveTokens(deps, ctx, admission, plan.keys.tpm, plan.tpm, estimate!.input + estimate!.maxOutput, headers);
    if (estimate && (plan.budget || user || team)) {
      const pricing = ctx.target?.pricing;
      const worst = pricing ? (estimate.inputBound * pricing.input + estimate.maxOutput * pricing.output) / 1e6 : 0;
      if (plan.budget) await budgets.reserve(ctx, admission, 'key', principal.id, plan.budget, worst);
      if (user) await budgets.reserve(ctx, admission, 'user', principal.user!, user, worst);
      if (team) await budgets.reserve(ctx, admission, 'team', principal.team!, team, worst);
    }
    if (plan.rpm !== undefined) await countRequest(deps, ctx, plan.keys.rpm, plan.rpm, headers);
  };

  return (ctx) => {
    const principal = ctx.principal;
    if (principal === ANONYMOUS) return; // an open gateway
    let plan = plans.get(principal);
    if (!plan) {
      plan = planOf(principal);
      plans.set(principal, plan);
    }
    if (plan.models && !plan.models.has(ctx.requestedModel)) {
      auditRequest(deps.audit, ctx, 'auth.failed', { reason: 'model_not_allowed', client_address: ctx.clientAddress, model: ctx.requestedModel }, {
        security: true, now: (deps.now ?? Date.now)(),
      });
      throw new GatewayError('GW_AUTH_MODEL_NOT_ALLOWED', `"${ctx.requestedModel}"`, { param: 'model' });
    }
    const user = store && principal.user !== undefined ? store.limitsOf('user', principal.user) : undefined;
    const team = store && principal.team !== undefined ? store.limitsOf('team', principal.team) : undefined;
    if (!plan.limited && !user && !team) return;
    return limited(ctx, plan, user, team);
  };
}
