// What the request path's access control (policy/authenticate.ts, admit.ts, settle.ts) is built from: the
// key cache, the counters, the budgets and the recorders, given once at start-up by the composition root.
import type { Config } from '../config/schema.ts';
import type { RequestContext } from '../core/context.ts';
import type { AuditEvent, AuditLog, BudgetStore, CounterStore, KeyLookup, UsageAnalytics } from '../store/ports.ts';
import type { DebugLog } from '../telemetry/log.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';

/** The recorder methods access control uses (the full Recorder satisfies it; tests pass a fake). */
export type AccessRecorder = Pick<Recorder, 'authBlocked' | 'rateLimitChecked' | 'budgetExceeded' | 'quotaUsed'>;

export interface AccessDeps {
  /** Keys from memory: config keys and the store's cache. Its `size` decides, per request, whether the gateway runs open. */
  keys: KeyLookup;
  /** Rate limits, parallel slots, budget reservations and the brute-force guard's failure counts. */
  counters: CounterStore;
  /** User and team budgets; absent: only keys' own budgets apply. */
  budgets?: BudgetStore;
  /** Seeds a budget counter from the ledger before this process first reserves on it; absent: counters start at 0. */
  analytics?: UsageAnalytics;
  /** auth.failed, rate.limited and budget.exceeded events; absent in unit tests. */
  audit?: AuditLog;
  recorder: AccessRecorder;
  config: { auth: Config['auth']; budgets: Config['budgets'] };
  /** The longest a parallel slot is held by a request that never finishes (a lost process); default 15 minutes. */
  holdMs?: number;
  /** ms since the epoch; tests move it. */
  now?: () => number;
  /** How the brute-force guard waits before a failed answer; tests make it instant. */
  sleep?: (ms: number) => Promise<void>;
  /** The auth module's logger when it writes debug lines. */
  debug?: DebugLog;
}

/** One audit event about a request: never a key, a secret or prompt text. */
export function auditRequest(
  audit: AuditLog | undefined,
  ctx: RequestContext,
  type: AuditEvent['type'],
  detail: AuditEvent['detail'],
  options: { security?: boolean; now: number },
): void {
  if (!audit) return;
  const actor = ctx.principal.id;
  audit.append({
    time: new Date(options.now).toISOString(),
    type,
    actor,
    requestId: ctx.requestId,
    traceId: ctx.span?.traceId,
    target: actor === 'anonymous' ? undefined : actor,
    security: options.security,
    detail,
  });
}
