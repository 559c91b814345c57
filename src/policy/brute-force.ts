// The brute-force guard: failed authentications are counted per client address on the shared counters (so
// every replica sees them); from half of auth.brute_force.max_failures on, failed answers are slowed by
// delay_ms; at max_failures the address is blocked for block_seconds. The block is kept in this process's
// memory and checked before any key lookup, so a request never waits for the store to learn it is blocked;
// another replica blocks the address on its own first failure from it, since the shared count is already past.
// Every request without a valid key also counts against auth.address_rpm, per address.
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { windowOf, type Window } from '../core/windows.ts';
import { auditRequest, type AccessDeps } from './access.ts';
import { addLimitHeaders, retryAfterSeconds } from './rate-limit-headers.ts';

/** Blocked addresses kept before expired ones are swept. */
const SWEEP_AT = 10_000;
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class BruteForceGuard {
  readonly #deps: AccessDeps;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Address → when its block ends (ms). */
  readonly #blocked = new Map<string, number>();

  constructor(deps: AccessDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#sleep = deps.sleep ?? defaultSleep;
  }

  /** Throws GW_AUTH_BLOCKED (with Retry-After) while `ctx`'s address is blocked; from memory, no store call. */
  checkBlocked(ctx: RequestContext): void {
    if (this.#blocked.size === 0) return;
    const until = this.#blocked.get(ctx.clientAddress);
    if (until === undefined) return;
    const now = this.#now();
    if (until <= now) {
      this.#blocked.delete(ctx.clientAddress);
      return;
    }
    this.#deps.recorder.authBlocked('blocked');
    throw new GatewayError('GW_AUTH_BLOCKED', undefined, { retryAfter: retryAfterSeconds(until, now) });
  }

  /**
   * A failed authentication from `ctx`'s address: counted, perhaps blocking the address, perhaps slowed;
   * then the address's request rate is checked (GW_RATE_LIMITED when past auth.address_rpm).
   */
  async failed(ctx: RequestContext): Promise<void> {
    const { counters, config, recorder } = this.#deps;
    const guard = config.auth.brute_force;
    const address = ctx.clientAddress;
    const now = this.#now();
    const failures = await counters.increment(`authfail:${address}`, 1, UNLIMITED, fixedWindow(guard.window_seconds * 1000, now));
    if (failures.count >= guard.max_failures) this.#block(ctx, failures.count, now);
    if (failures.count >= guard.max_failures / 2 && guard.delay_ms > 0) {
      recorder.authBlocked('delayed');
      await this.#sleep(guard.delay_ms);
    }
    await this.#checkAddressRate(ctx);
  }

  #block(ctx: RequestContext, failures: number, now: number): void {
    const { block_seconds: blockSeconds } = this.#deps.config.auth.brute_force;
    const address = ctx.clientAddress;
    if ((this.#blocked.get(address) ?? 0) > now) return;
    if (this.#blocked.size >= SWEEP_AT) for (const [other, until] of this.#blocked) if (until <= now) this.#blocked.delete(other);
    this.#blocked.set(address, now + blockSeconds * 1000);
    auditRequest(this.#deps.audit, ctx, 'auth.failed', { reason: 'blocked', client_address: address, failures, block_seconds: blockSeconds }, { security: true, now });
  }

  async #checkAddressRate(ctx: RequestContext): Promise<void> {
    const { counters, config, recorder, audit } = this.#deps;
    const limit = config.auth.address_rpm;
    const now = this.#now();
    const result = await counters.increment(`addr:${ctx.clientAddress}`, 1, limit, windowOf('minute', now));
    recorder.rateLimitChecked('address', result.degraded ? 'degraded' : result.allowed ? 'allowed' : 'rejected');
    // A refusal by an unreachable store (on_failure closed) is no reason to answer 429: the request fails anyway.
    if (result.allowed || (result.degraded && counters.failureMode === 'closed')) return;
    auditRequest(audit, ctx, 'rate.limited', { scope: 'address', limit }, { now });
    const headers: Record<string, string> = {};
    addLimitHeaders(headers, 'requests', limit, result.count, result.resetAt, now);
    throw new GatewayError('GW_RATE_LIMITED', `more than ${limit} requests per minute without a valid key from this address`, {
      retryAfter: retryAfterSeconds(result.resetAt, now), headers,
    });
  }
}

/** The window of `lengthMs` that holds `now`, aligned to the epoch so every replica computes the same one. */
function fixedWindow(lengthMs: number, now: number): Window {
  const start = now - (now % lengthMs);
  return { start, end: start + lengthMs };
}
