// A key's rates: requests per minute, tokens per minute (the estimate reserved, settled with the real usage)
// and requests in flight. Each check is counted (vigil_rate_limit_checks_total by scope and result); a refusal
// answers 429 GW_RATE_LIMITED with OpenAI's x-ratelimit-* headers and Retry-After, and is audited.
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { windowOf } from '../core/windows.ts';
import { auditRequest, type AccessDeps } from './access.ts';
import type { Admission } from './admission.ts';
import { addLimitHeaders, retryAfterSeconds } from './rate-limit-headers.ts';

export type RateScope = 'rpm' | 'tpm' | 'parallel';

/** Counter keys of one key id, built once per principal. */
export interface RateKeys {
  readonly rpm: string;
  readonly tpm: string;
  readonly parallel: string;
}

export const rateKeys = (id: string): RateKeys => ({ rpm: `rpm:${id}`, tpm: `tpm:${id}`, parallel: `par:${id}` });

const DEFAULT_HOLD_MS = 15 * 60_000;

export async function acquireParallel(deps: AccessDeps, ctx: RequestContext, admission: Admission, key: string, limit: number): Promise<void> {
  const result = await deps.counters.acquire(key, limit, deps.holdMs ?? DEFAULT_HOLD_MS);
  checked(deps, ctx, 'parallel', limit, result.allowed, result.degraded, () => ({
    detail: `more than ${limit} requests in flight for this key`, retryAfter: 1, headers: {},
  }));
  admission.parallelKey = key;
}

/** Reserves `tokens` (the estimate) in this minute; adds the tokens triple to `headers`. */
export async function reserveTokens(deps: AccessDeps, ctx: RequestContext, admission: Admission, key: string, limit: number, tokens: number, headers: Record<string, string>): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const window = windowOf('minute', now);
  const result = await deps.counters.reserve(key, tokens, limit, window);
  checked(deps, ctx, 'tpm', limit, result.granted, result.degraded, () => {
    const refusal: Record<string, string> = {};
    addLimitHeaders(refusal, 'tokens', limit, result.used, window.end, now);
    return { detail: `about ${tokens} tokens would pass this key's ${limit} tokens per minute`, retryAfter: retryAfterSeconds(window.end, now), headers: refusal };
  });
  admission.tpm = result;
  addLimitHeaders(headers, 'tokens', limit, result.used, window.end, now);
}

/** Counts one request in this minute; adds the requests triple to `headers`. */
export async function countRequest(deps: AccessDeps, ctx: RequestContext, key: string, limit: number, headers: Record<string, string>): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const result = await deps.counters.increment(key, 1, limit, windowOf('minute', now));
  checked(deps, ctx, 'rpm', limit, result.allowed, result.degraded, () => {
    const refusal: Record<string, string> = {};
    addLimitHeaders(refusal, 'requests', limit, result.count, result.resetAt, now);
    return { detail: `${limit} requests per minute`, retryAfter: retryAfterSeconds(result.resetAt, now), headers: refusal };
  });
  addLimitHeaders(headers, 'requests', limit, result.count, result.resetAt, now);
}

interface Refusal {
  detail: string;
  retryAfter: number;
  headers: Record<string, string>;
}

/** Counts the check; throws on a refusal (503 when the store itself refused); admit gives back what the request took. */
function checked(deps: AccessDeps, ctx: RequestContext, scope: RateScope, limit: number, allowed: boolean, degraded: boolean, refusal: () => Refusal): void {
  deps.recorder.rateLimitChecked(scope, degraded ? 'degraded' : allowed ? 'allowed' : 'rejected');
  if (allowed) return;
  if (degraded && deps.counters.failureMode === 'closed') throw new GatewayError('GW_LIMITS_UNAVAILABLE');
  auditRequest(deps.audit, ctx, 'rate.limited', { scope, limit }, { now: (deps.now ?? Date.now)() });
  const { detail, retryAfter, headers } = refusal();
  throw new GatewayError('GW_RATE_LIMITED', detail, { retryAfter, headers });
}
