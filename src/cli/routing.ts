// Routing's run-time pieces for `serve`: the circuit breakers (their transitions told to the metrics, the
// audit log and the log), the per-deployment statistics selection reads, the readiness component, and the
// scrape-time figures (routable deployments per alias, attempts in flight, cache entries).
import type { CompiledConfig } from '../config/compile.ts';
import type { BreakerState } from '../core/alias.ts';
import type { HealthCheck } from '../core/health.ts';
import { Breakers } from '../routing/breakers.ts';
import { DeploymentStats } from '../routing/deployment-stats.ts';
import type { RoutingDeps } from '../routing/dispatch.ts';
import { routingHealthCheck } from '../routing/routing-health.ts';
import type { Stores } from '../store/factory.ts';
import type { AuditEventType } from '../store/ports.ts';
import type { Logger } from '../telemetry/log.ts';
import type { RoutingFigures } from '../telemetry/metrics/collect.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';

export interface Routing {
  readonly deps: RoutingDeps;
  readonly healthCheck: HealthCheck;
  figures(): RoutingFigures;
  close(): void;
}

const AUDIT_TYPES: Record<BreakerState, AuditEventType> = { 0: 'breaker.closed', 1: 'breaker.opened', 2: 'breaker.half_opened' };

export function startRouting(compiled: CompiledConfig, stores: Pick<Stores, 'audit' | 'breakerBus' | 'responseCache'>, recorder: Recorder, log: Logger): Routing {
  const aliases = [...compiled.aliases.values()];
  const breakers = new Breakers(aliases, {
    bus: stores.breakerBus,
    onChange(deployment, state, _previous, reason) {
      recorder.breakerChanged(deployment, state);
      stores.audit.append({ time: new Date().toISOString(), type: AUDIT_TYPES[state], actor: 'system', target: deployment, detail: { reason } });
      if (state === 1) log.warn({ deployment, reason }, 'circuit breaker opened');
      else log.info({ deployment, reason }, state === 0 ? 'circuit breaker closed' : 'circuit breaker half-open');
    },
  });
  for (const deployment of new Set(aliases.flatMap((alias) => alias.deployments.map((d) => d.deploymentId)))) recorder.breakerKnown(deployment);
  const stats = new DeploymentStats();
  return {
    deps: { aliases: compiled.aliases, breakers, stats, recorder },
    healthCheck: routingHealthCheck(aliases, breakers),
    figures: () => ({
      routable: new Map(aliases.map((alias) => [alias.name, breakers.routable(alias.deployments)])),
      inFlight: new Map([...stats.all()].map((stat) => [stat.id, stat.inFlight])),
      cacheEntries: stores.responseCache?.size() ?? 0,
    }),
    close: () => breakers.close(),
  };
}
