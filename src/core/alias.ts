// A public model name as routing sees it: an alias over one or more deployments (provider + upstream model),
// with the policies config/compile.ts resolved for it (the alias's own settings over `routing.*`). The
// routing folder selects, retries, falls back and breaks circuits from these; nothing re-reads the config.
import type { ModelTarget } from './context.ts';
import type { ErrorClass } from './errors.ts';

export type Strategy = 'weighted' | 'priority' | 'least_in_flight' | 'lowest_latency';

/** One upstream behind an alias. The same provider and upstream model under two aliases is one deployment (one breaker). */
export interface Deployment extends ModelTarget {
  readonly weight: number;
  readonly priority: number;
  /** Requests in flight at once from this process; undefined: unbounded. */
  readonly maxParallel: number | undefined;
}

export interface RetryPolicy {
  /** Attempts on this alias's deployments, in all. */
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly on: ReadonlySet<ErrorClass>;
  /** 0: none beyond upstream.* */
  readonly attemptTimeoutMs: number;
  /** 0: none. */
  readonly deadlineMs: number;
}

export interface BreakerPolicy {
  readonly enabled: boolean;
  readonly failureRatio: number;
  readonly minRequests: number;
  readonly windowMs: number;
  readonly consecutiveFailures: number;
  readonly cooldownMs: number;
  readonly halfOpenRequests: number;
  readonly on: ReadonlySet<ErrorClass>;
}

export interface CachePolicy {
  readonly enabled: boolean;
  readonly ttlSeconds: number;
}

export interface Alias {
  readonly name: string;
  readonly type: ModelTarget['type'];
  readonly deployments: readonly Deployment[];
  readonly strategy: Strategy;
  /** Aliases tried in order once this one's deployments are exhausted by an error in `fallbackOn`. */
  readonly fallbacks: readonly string[];
  readonly fallbackOn: ReadonlySet<ErrorClass>;
  readonly retry: RetryPolicy;
  readonly breaker: BreakerPolicy;
  readonly cache: CachePolicy;
}

/** A breaker's state as the metric reports it: 0 closed, 1 open, 2 half-open. */
export type BreakerState = 0 | 1 | 2;

/**
 * What the router asks of the circuit breakers (routing/breakers.ts implements it): one breaker per deployment
 * id, shared by every alias that routes to it.
 */
export interface BreakerGate {
  /** Whether an attempt may go to `deployment` now; while half-open this takes one of its trial slots. */
  tryAcquire(deployment: Deployment): boolean;
  /** The outcome of an attempt tryAcquire admitted: undefined for a success, else its error class. */
  record(deployment: Deployment, errorClass: ErrorClass | undefined): void;
  /** 0 closed, 1 open, 2 half-open; without taking anything. */
  state(deploymentId: string): BreakerState;
  /** ms until the first of `deployments` half-opens (for Retry-After); 0 when one is not open. */
  retryAfterMs(deployments: readonly Deployment[]): number;
}
