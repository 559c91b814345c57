// The admin API as routes (pipeline/endpoints.ts's ApiRoute): each handler is a stage list behind the
// admin-token check, composed with the same `compose` as the LLM endpoints, so every admin request is
// counted, logged and finished like any other. Writes then publish a change (other gateways refresh their
// caches at once) and append an `admin.action` audit event with the status they ended with.
import type { Stage } from '../core/context.ts';
import { compose, type ApiRoute } from '../pipeline/endpoints.ts';
import type { Finish } from '../pipeline/finish.ts';
import type { AuditLog, BudgetStore, KeyRecord, KeyStore, UsageAnalytics } from '../store/ports.ts';
import { createAdminAuth } from './admin-auth.ts';
import { analyticsRoutes } from './analytics-api.ts';
import { auditRoutes } from './audit-api.ts';
import { budgetRoutes } from './budgets-api.ts';
import { keyRoutes } from './keys-api.ts';

export interface ChangePublisher {
  publish(kind: 'keys' | 'budgets'): void;
}

export interface AdminDeps {
  /** auth.admin_token resolved; undefined: no admin routes at all (/admin/ answers 404). */
  token: string | undefined;
  keys: KeyStore;
  /** The config file's keys: listed as read-only, never revoked or rotated. */
  configKeys: readonly KeyRecord[];
  budgets: BudgetStore;
  analytics: UsageAnalytics;
  audit: AuditLog;
  /** Told after every write so other gateways refresh at once (the Redis change channel). */
  changes?: ChangePublisher;
  now?: () => number;
  finish: Finish;
}

/** One admin endpoint before composition; `writes`: what its success changes, for the change channel. */
export interface AdminRoute {
  method: ApiRoute['method'];
  path: string;
  writes?: 'keys' | 'budgets';
  stage: Stage;
}

export function buildAdminRoutes(deps: AdminDeps): ApiRoute[] {
  if (deps.token === undefined) return [];
  const now = deps.now ?? Date.now;
  const authorize = createAdminAuth(deps.token, deps.keys, deps.configKeys);
  const routes = [...keyRoutes(deps, now), ...budgetRoutes(deps.budgets), ...analyticsRoutes(deps.analytics, now), ...auditRoutes(deps.audit)];
  return routes.map(({ method, path, writes, stage }) => ({
    method, path, dialect: 'openai', operation: 'admin',
    endpoint: compose([authorize, stage], writes ? recordedWrite(deps, path, writes, now) : deps.finish),
  }));
}

/** Finish for a write: when the admin token was accepted, publish the change (if it succeeded) and audit the action. */
function recordedWrite(deps: AdminDeps, pattern: string, writes: 'keys' | 'budgets', now: () => number): Finish {
  return (ctx) => {
    const code = ctx.error?.code;
    if (code !== 'GW_ADMIN_UNAUTHORIZED' && code !== 'GW_ADMIN_FORBIDDEN') {
      if (ctx.status < 400) deps.changes?.publish(writes);
      const path = pattern.replace(/\{(\w+)\}/g, (_, name: string) => ctx.params[name] ?? name);
      deps.audit.append({
        time: new Date(now()).toISOString(), type: 'admin.action', actor: 'admin', requestId: ctx.requestId,
        traceId: ctx.span?.traceId, detail: { method: ctx.method, path, status: ctx.status },
      });
    }
    deps.finish(ctx);
  };
}
