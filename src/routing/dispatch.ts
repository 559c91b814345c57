// Dispatch: the attempt loop. Each attempt picks a deployment of the current alias (select.ts), is a record
// on the context (core/attempt.ts) handed to that deployment's provider, which translates (decoding to the
// canonical shape only when it does not speak the client's dialect) and sends. A failure is followed by
// another attempt on the alias while its retry budget and retry.on allow (after a backoff, or the upstream's
// Retry-After), then by the next alias of the chain whose fallback_on lists the failure's class; never
// after the client left or the deadline passed. A stream is returned only once its first chunk came (so
// that it may be retried until then), never afterwards. Nothing has reached the client yet: encode, the next
// stage, opens the response.
import { setTimeout as delay } from 'node:timers/promises';
import type { Alias, BreakerGate } from '../core/alias.ts';
import type { Attempt } from '../core/attempt.ts';
import { TranslationRefusal, type ChatOutput, type ChatRequest, type Dialect, type EmbeddingsOutput } from '../core/canonical.ts';
import type { Held, RequestContext, Stage } from '../core/context.ts';
import { GatewayError, toGatewayError, type ErrorClass } from '../core/errors.ts';
import type { Provider } from '../providers/provider.ts';
import type { DebugLog } from '../telemetry/log.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';
import { MOVE_ON, retryDelayMs } from './backoff.ts';
import type { DeploymentStat, DeploymentStats } from './deployment-stats.ts';
import { firstByte } from './first-byte.ts';
import type { AliasRoute, ChainLink, RouteTable } from './plan.ts';
import { selectDeployment } from './select.ts';

/** The client's body → the canonical request for a provider of `target` (undefined: the mock); may refuse. */
export type Decode = (body: Record<string, any>, target: Dialect | undefined) => ChatRequest;

export type RoutingRecorder = Pick<Recorder, 'routed' | 'retried' | 'fellBack' | 'translationRefused'>;

/** What the router runs on, built once at start-up (cli/serve.ts). `now`, `sleep` and `random` are for tests. */
export interface RoutingDeps {
  aliases: ReadonlyMap<string, Alias>;
  breakers: BreakerGate;
  stats: DeploymentStats;
  recorder: RoutingRecorder;
  /** ms on performance.now()'s clock (the one RequestContext.startedAt is on). */
  now?: () => number;
  /** Resolves after `ms`, or rejects once `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** One attempt's call into its provider; made once per endpoint, so the loop makes no closure per request. */
export type Call = (provider: Provider, ctx: RequestContext, attempt: Attempt) => Promise<ChatOutput | EmbeddingsOutput>;

/** `debug`: the routing module's logger, only when it writes debug lines. */
export function createChatDispatch(routes: RouteTable, deps: RoutingDeps, decode: Decode, debug?: DebugLog): Stage {
  const decodeFor = (target: Dialect | undefined, body: Record<string, any>) => {
    try {
      return decode(body, target);
    } catch (err) {
      if (err instanceof TranslationRefusal) deps.recorder.translationRefused(err.field);
      throw err;
    }
  };
  return createDispatch(routes, deps, (provider, ctx, attempt) => {
    // Per attempt: what one provider's dialect refuses, another attempt's (the mock) may accept.
    if (provider.dialect !== ctx.dialect) ctx.chat = decodeFor(provider.dialect, ctx.body);
    return provider.chat(ctx, attempt);
  }, debug);
}

/** Decodes a Responses request for a provider of `kind` that does not serve the API, refusing what that provider cannot do. */
export type DecodeFor = (body: Record<string, any>, kind: Provider['kind']) => ChatRequest;

/** Responses: passed through to a provider that serves the API, else decoded (per provider: what it can honour differs) for its `chat`. */
export function createResponsesDispatch(routes: RouteTable, deps: RoutingDeps, decode: DecodeFor, debug?: DebugLog): Stage {
  return createDispatch(routes, deps, (provider, ctx, attempt) => {
    if (provider.responses) return provider.responses(ctx, attempt);
    ctx.chat = decode(ctx.body, provider.kind);
    return provider.chat(ctx, attempt);
  }, debug);
}

export function createEmbeddingsDispatch(routes: RouteTable, deps: RoutingDeps, debug?: DebugLog): Stage {
  return createDispatch(routes, deps, (provider, ctx, attempt) => provider.embeddings(ctx, attempt), debug);
}

const defaultSleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal });

/** The attempt loop over `call`, for endpoints with a call of their own (routing/completions.ts). */
export function createDispatch(routes: RouteTable, deps: RoutingDeps, call: Call, debug: DebugLog | undefined): Stage {
  const { breakers, recorder } = deps;
  const now = deps.now ?? performance.now.bind(performance);
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;

  /** A stream's deployment stays in flight, and its breaker waits for the outcome, until the request is done. */
  const streamHold: Held = {
    release(ctx) {
      const attempt = ctx.attempt!;
      const deployment = attempt.target as Alias['deployments'][number];
      release(deps.stats.of(deployment.deploymentId));
      breakers.record(deployment, ctx.upstreamErrorClass); // a drained stream's own outcome, not its client's leaving
    },
  };

  // The in-flight gauge reads these counts at scrape time (DeploymentStats): a labelled gauge bumped twice
  // per attempt cost ~1.2 µs of a request's ~13 in bench/micro/pipeline.bench.ts.
  function release(stat: DeploymentStat): void {
    stat.inFlight--;
  }

  /** One attempt on deployment `index` of `route`: its output (a stream's first chunk read), or its error thrown. */
  async function attemptOn(ctx: RequestContext, route: AliasRoute, index: number, deadlineAt: number): Promise<void> {
    const deployment = route.alias.deployments[index];
    const stat = route.stats[index];
    const attempt = ctx.addAttempt(deployment);
    const provider = route.providers[index];
    if (debug) debug.debug(describe(ctx, route, attempt, provider), 'routed');
    stat.inFlight++;
    const startedAt = now();
    let output: ChatOutput | EmbeddingsOutput;
    try {
      const limitMs = Math.min(route.alias.retry.attemptTimeoutMs || Infinity, deadlineAt - startedAt);
      const pending = ctx.stream ? call(provider, ctx, attempt).then(firstByte) : call(provider, ctx, attempt);
      output = limitMs === Infinity ? await pending : await within(ctx, attempt, pending, limitMs, deadlineAt - startedAt === limitMs);
    } catch (err) {
      release(stat);
      const error = toGatewayError(err);
      attempt.error = error;
      breakers.record(deployment, error.errorClass);
      throw error;
    }
    stat.observe(now() - startedAt);
    ctx.output = output;
    if (ctx.stream) {
      ctx.held = streamHold;
    } else {
      release(stat);
      breakers.record(deployment, undefined);
    }
  }

  return async (ctx: RequestContext) => {
    const first = routes.get(ctx.alias!.name)!;
    const chain = first.chain;
    const deadlineAt = first.alias.retry.deadlineMs > 0 ? ctx.startedAt + first.alias.retry.deadlineMs : Infinity;
    let link = 0;
    let route = first;
    /** Where this alias's attempts begin in ctx.attempts, and how many it made. */
    let from = ctx.attempts.length;
    let made = 0;
    let error: GatewayError | undefined;
    for (;;) {
      if (ctx.abortReason) throw error ?? ctx.abortReason;
      const startedAt = now();
      if (startedAt >= deadlineAt) throw error ?? new GatewayError('GW_UPSTREAM_TIMEOUT', `request deadline of ${first.alias.retry.deadlineMs} ms reached`);
      const index = selectDeployment(route, breakers, ctx.attempts, from, random);
      if (index < 0) {
        // Nothing here can take it (breakers open, at capacity): the chain's next alias, for class `unavailable`.
        const next = nextLink(chain, link, 'unavailable');
        if (next < 0) throw error ?? noDeployment(first, breakers);
        recorder.fellBack(route.alias.name, chain[next].route.alias.name, 'unavailable');
        link = next;
        route = chain[next].route;
        from = ctx.attempts.length;
        made = 0;
        continue;
      }
      const alias = route.alias;
      recorder.routed(alias.name, alias.deployments[index].deploymentId, alias.strategy, (now() - startedAt) / 1000);
      if (made > 0) recorder.retried(alias.name, error!.errorClass);
      made++;
      try {
        await attemptOn(ctx, route, index, deadlineAt);
        return;
      } catch (err) {
        error = err as GatewayError;
      }
      if (ctx.abortReason) throw error;
      const errorClass = error.errorClass;
      if (made < alias.retry.attempts && alias.retry.on.has(errorClass)) {
        const wait = retryDelayMs(alias.retry, made - 1, error.retryAfter, random);
        if (wait !== MOVE_ON || untried(route, ctx.attempts, from)) {
          if (wait > 0) {
            if (now() + wait >= deadlineAt) throw error;
            await sleep(wait, ctx.signal).catch(ignore); // an abort ends the loop at its top
          }
          continue;
        }
      }
      const next = nextLink(chain, link, errorClass);
      if (next < 0) throw error;
      recorder.fellBack(alias.name, chain[next].route.alias.name, errorClass);
      link = next;
      route = chain[next].route;
      from = ctx.attempts.length;
      made = 0;
    }
  };
}

/** The next alias along the chain after `link` that a failure of `errorClass` may move to; -1: none. */
function nextLink(chain: readonly ChainLink[], link: number, errorClass: ErrorClass): number {
  for (let next = link + 1; next < chain.length; next++) if (chain[next].via!.fallbackOn.has(errorClass)) return next;
  return -1;
}

/** Whether some deployment of the alias has no attempt of this request yet (a Retry-After too long to wait for moves there). */
function untried(route: AliasRoute, attempts: readonly Attempt[], from: number): boolean {
  outer: for (const deployment of route.alias.deployments) {
    for (let a = from; a < attempts.length; a++) if (attempts[a].target === deployment) continue outer;
    return true;
  }
  return false;
}

/** Every deployment of the alias and its fallbacks is unroutable: retry once the first breaker half-opens. */
function noDeployment(route: AliasRoute, breakers: BreakerGate): GatewayError {
  const retryAfter = Math.max(1, Math.ceil(breakers.retryAfterMs(route.chainDeployments) / 1000));
  return new GatewayError('GW_NO_DEPLOYMENT_AVAILABLE', `"${route.alias.name}"`, { retryAfter });
}

/**
 * `pending` within `limitMs`: past it, the attempt's call is cancelled and the attempt fails as a timeout
 * (the attempt's limit, or the request's deadline). Only when a limit is configured: a timer per attempt.
 */
function within<T>(ctx: RequestContext, attempt: Attempt, pending: Promise<T>, limitMs: number, deadline: boolean): Promise<T> {
  if (limitMs <= 0) {
    pending.catch(ignore);
    return Promise.reject(new GatewayError('GW_UPSTREAM_TIMEOUT', 'request deadline reached'));
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new GatewayError('GW_UPSTREAM_TIMEOUT', deadline ? 'request deadline reached' : `no answer within the attempt timeout of ${limitMs} ms`);
      attempt.call?.cancel(error);
      if (attempt.endedAt < 0) attempt.endedAt = performance.now() - ctx.startedAt;
      reject(error);
    }, limitMs);
    pending.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const ignore = () => {};

function describe(ctx: RequestContext, route: AliasRoute, attempt: Attempt, provider: Provider): Record<string, unknown> {
  const mode = provider.dialect === ctx.dialect ? 'passthrough' : 'translated';
  return {
    request_id: ctx.requestId, model: route.alias.name, deployment: attempt.target.deploymentId, strategy: route.alias.strategy,
    attempt: ctx.attempts.length, provider: provider.id, upstream_model: attempt.target.upstreamModel, stream: ctx.stream, mode,
  };
}
