// Aliases and breaker policies for the circuit-breaker tests, built as config/compile.ts would hand them over.
import type { Alias, BreakerPolicy, Deployment } from '../../src/core/alias.ts';
import type { ErrorClass } from '../../src/core/errors.ts';

/** Small numbers so each rule is reached in a few steps: 3 in a row, or half of ≥ 4 in 10 s; 5 s open; 2 trials. */
export function breakerPolicy(overrides: Partial<BreakerPolicy> = {}): BreakerPolicy {
  return {
    enabled: true,
    failureRatio: 0.5,
    minRequests: 4,
    windowMs: 10_000,
    consecutiveFailures: 3,
    cooldownMs: 5_000,
    halfOpenRequests: 2,
    on: new Set<ErrorClass>(['server_error', 'timeout', 'network']),
    ...overrides,
  };
}

export function deploymentOf(alias: string, deploymentId: string): Deployment {
  const [providerId, upstreamModel] = deploymentId.split(':');
  return { name: alias, upstreamModel: upstreamModel ?? deploymentId, providerId, deploymentId, type: 'chat', weight: 1, priority: 0, maxParallel: undefined };
}

/** An alias over `deploymentIds` (`provider:model`) with `breaker` and defaults for the rest. */
export function aliasOf(name: string, deploymentIds: string[], breaker: BreakerPolicy = breakerPolicy()): Alias {
  return {
    name,
    type: 'chat',
    deployments: deploymentIds.map((id) => deploymentOf(name, id)),
    strategy: 'priority',
    fallbacks: [],
    fallbackOn: new Set(),
    retry: { attempts: deploymentIds.length, backoffMs: 0, maxBackoffMs: 0, on: new Set(), attemptTimeoutMs: 0, deadlineMs: 0 },
    breaker,
    cache: { enabled: false, ttlSeconds: 300 },
  };
}
