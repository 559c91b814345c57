// Aliases and routing deps for tests, so a test writes only the policies it is about.
import type { Alias, BreakerGate, Deployment, RetryPolicy } from '../../src/core/alias.ts';
import type { Attempt } from '../../src/core/attempt.ts';
import type { ChatOutput, StreamEvent } from '../../src/core/canonical.ts';
import type { ModelTarget, RequestContext } from '../../src/core/context.ts';
import { GatewayError, type ErrorClass, type ErrorCode } from '../../src/core/errors.ts';
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
    translationRefused: (field) => void calls.push(['translationRefused', field]),
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

/** What a scripted provider does for one attempt: answer, fail before answering, or stream then fail. */
export type Step =
  | { kind: 'ok'; ms?: number }
  | { kind: 'fail'; code: ErrorCode; retryAfter?: number; ms?: number }
  /** A stream that fails before its first event (early) or after two (late). */
  | { kind: 'stream_fail'; early: boolean; ms?: number }
  /** Never answers until its call is cancelled. */
  | { kind: 'hang' };

export interface ScriptLog {
  /** Per attempt: the provider, the clock when it started, and whether its stream's first event came out. */
  started: { provider: string; at: number; firstEvent: boolean }[];
}

/**
 * A provider that plays `steps` in turn (then answers), taking `ms` of `clock` per step. Chat answers are
 * canonical results, or events for streams; usage is 10 in, 5 out.
 */
export function scriptedProvider(id: string, steps: Step[], clock: { now: number }, log: ScriptLog): Provider {
  const usage = () => ({ inputTokens: 10, outputTokens: 5, cachedInputTokens: 0 });
  async function* events(entry: ScriptLog['started'][number], step: Step): AsyncGenerator<StreamEvent> {
    if (step.kind === 'stream_fail' && step.early) throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'ended before its first event');
    entry.firstEvent = true;
    yield { type: 'start', model: 'm' };
    yield { type: 'text', text: 'hi' };
    if (step.kind === 'stream_fail') throw new GatewayError('GW_UPSTREAM_SERVER_ERROR', 'failed mid-stream');
    yield { type: 'finish', reason: 'stop' };
    yield { type: 'usage', usage: usage() };
  }
  const chat = async (ctx: RequestContext, attempt: Attempt): Promise<ChatOutput> => {
    const step = steps.shift() ?? { kind: 'ok' };
    const entry = { provider: id, at: clock.now, firstEvent: false };
    log.started.push(entry);
    attempt.startedAt = Math.max(0, performance.now() - ctx.startedAt);
    if (step.kind === 'hang') {
      return new Promise((_resolve, reject) => {
        attempt.call = { cancel: (reason) => reject(reason) };
      });
    }
    clock.now += step.ms ?? 0;
    if (step.kind === 'fail') {
      attempt.status = 500;
      attempt.endedAt = performance.now() - ctx.startedAt;
      throw new GatewayError(step.code, 'scripted', { retryAfter: step.retryAfter });
    }
    attempt.status = 200;
    if (!ctx.stream) {
      attempt.endedAt = performance.now() - ctx.startedAt;
      return { kind: 'result', result: { model: 'm', content: [{ type: 'text', text: 'hi' }], finishReason: 'stop', usage: usage() } };
    }
    return { kind: 'events', events: events(entry, step) };
  };
  return {
    id, kind: 'mock', dialect: undefined, unavailableReason: undefined, supportsEmbeddings: false, chat,
    embeddings: async () => { throw new GatewayError('GW_MODEL_WRONG_TYPE'); },
  };
}
