// The settle finisher: what admit set aside for a request (rate-limit and budget reservations, a parallel
// slot) is settled with the real usage and cost once, at finish, also after errors and client aborts. It
// runs before the usage record and after the request's cost is known (pipeline/finish.ts).
import type { RequestContext } from '../core/context.ts';

export function settleAdmission(ctx: RequestContext): void {
  const admission = ctx.admission;
  if (!admission) return;
  ctx.admission = undefined; // once, even if finish were called twice
  admission.settle(ctx);
}
