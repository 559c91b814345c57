// Aliases and routing deps for tests, so a test writes only the policies it is about.
import type { Alias, BreakerGate, Deployment, RetryPolicy } from '../../src/core/alias.ts';
import type { ModelTarget } from '../../src/core/context.ts';
import type { ErrorClass } from '../../src/core/errors.ts';
import type { Provider } from '../../src/providers/provider.ts';
import { DeploymentStats } from '../../src/routing/deployment-stats.ts';
import type { RoutingDeps, RoutingRecorder } from '../../src/routing/dispatch.ts';
import { buildRouteTable, type RouteTable } from '../../src/routing/plan.ts';

const PROVIDER_FAULTS: ErrorClass[] = ['rate_limit', 'server_error', 'timeout', 'network', 'protocol', 'unavailable'];

export function testDeployment(target: ModelTarget, fields: Partial<Pick<Deployment, 'weight' | 'priority' | 'maxParallel'>> = {}): Deployment {
  return { weight: 1, priority: 0, maxParallel: undefined, ...target, ...fields };
}

/** An alias over `deployments` (named after the first one's alias) with routing's defaults, no backoff. */
export function testAlias(deployments: Deployment[], fields: Partial<Omit<Alias, 'retry'>> & { retry?: Partial<RetryPolicy> } = {}): Alias {
  const { retry, ...rest } = fields;
  return {
    name: deployments[0].name,
    type: deployments[0].type,
    deployments,
    strategy: 'priority',
    fallbacks: [],
    fallbackOn: new Set(PROVIDER_FAULTS),
    breaker: { enabled: true, failureRatio: 0.5, minRequests: 10, windowMs: 30_000, consecutiveFailures: 5, cooldownMs: 30_000, halfOpenRequests: 1, on: new Set(PROVIDER_FAULTS) },
    cache: { enabled: false, ttlSeconds: 300 },
    ...rest,
    retry: { attempts: deployments.length, backoffMs: 0, maxBackoffMs: 2000, on: new Set(PROVIDER_FAULTS), attemptTimeoutMs: 0, deadlineMs: 0, ...retry },
  };
}

/** A gate whose breakers never open, counting what it was told. */
export function closedGate(): BreakerGate & { acquired: string[]; recorded: [string, ErrorClass | undefined][] } {
  const acquired: string[] = [];
  const recorded: [string, ErrorClass | undefined][] = [];
  return {
    acquired,
    recorded,
    tryAcquire(deployment) {
      acquired.push(deployment.deploymentId);
      return true;
    },
    record: (deployment, errorClass) => void recorded.push([deployment.deploymentId, errorClass]),
    state: () => 0,
    retryAfterMs: () => 0,
  };
}

/** A recorder of the routing calls, in order. */
export function routingCalls(): RoutingRecorder & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    routed: (model, deployment, strategy) => void calls.push(['routed', model, deployment, strategy]),
    retried: (model, reason) => void calls.push(['retried', model, reason]),
    fellBack: (from, to, reason) => void calls.push(['fellBack', from, to, reason]),
    deploymentInFlight: (deployment, delta) => void calls.push(['inFlight', deployment, delta]),
  };
}

/** Routing deps and the route table over `aliases`, served by `providers`. */
export function testRouting(aliases: Alias[], providers: ReadonlyMap<string, Provider>, deps: Partial<RoutingDeps> = {}): { deps: RoutingDeps; routes: RouteTable } {
  const full: RoutingDeps = {
    aliases: new Map(aliases.map((alias) => [alias.name, alias])),
    breakers: closedGate(),
    stats: new DeploymentStats(),
    recorder: routingCalls(),
    ...deps,
  };
  return { deps: full, routes: buildRouteTable(full.aliases, providers, full.stats) };
}
