// The API's route table and the only place the order of stages is written down: one list per endpoint,
// composed at start-up.
import type { Dialect, Operation } from '../core/canonical.ts';
import type { CompiledConfig } from '../config/compile.ts';
import type { RequestContext, Stage } from '../core/context.ts';
import { toGatewayError } from '../core/errors.ts';
import type { AccessDeps } from '../policy/access.ts';
import { createAdmit } from '../policy/admit.ts';
import { createAuthenticate } from '../policy/authenticate.ts';
import type { Provider } from '../providers/provider.ts';
import { completionAttempt, createCompletionsCheck } from '../routing/completions.ts';
import { createCountTokens } from '../routing/count-tokens.ts';
import { createChatDispatch, createDispatch, createEmbeddingsDispatch, createResponsesDispatch, type Decode, type RoutingDeps } from '../routing/dispatch.ts';
import { createRawPassthrough } from '../routing/passthrough.ts';
import { buildRouteTable, createPlan } from '../routing/plan.ts';
import { acceptCountTokens, answerTokenEstimate } from '../surfaces/count-tokens.ts';
import { acceptAnthropicMessages, decodeAnthropicMessages } from '../surfaces/anthropic-messages.ts';
import { acceptOpenAIChat, decodeOpenAIChat } from '../surfaces/openai-chat.ts';
import { acceptOpenAICompletions } from '../surfaces/openai-completions.ts';
import { acceptOpenAIEmbeddings } from '../surfaces/openai-embeddings.ts';
import { acceptOpenAIResponses, decodeOpenAIResponses } from '../surfaces/openai-responses.ts';
import { renderModels } from '../surfaces/models.ts';
import type { DebugLog } from '../telemetry/log.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';
import { encodeChat, encodeEmbeddings, encodeResponses } from './encode.ts';
import type { Finish } from './finish.ts';
import { createResponseCache, type ResponseCacheDeps } from './response-cache.ts';

export type Endpoint = (ctx: RequestContext) => Promise<void>;

/**
 * One API endpoint: where it is served and its stages, composed. The server routes from this list, so adding
 * an endpoint is one entry. `path` is a pattern: `{name}` matches one segment, a trailing `{name...}` the rest
 * of the path; a route without a body receives its parameters as `ctx.body`. `either`: a route both SDKs
 * call, answered in the dialect of the asking one (server/app.ts). Operation `passthrough` (the raw
 * passthrough): served for every path under its pattern that no other route has, whatever the method (its
 * `method` is not read), its body read as bytes and not parsed.
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  dialect: Dialect | 'either';
  operation: Operation;
  endpoint: Endpoint;
}

/** Per module, its logger when it writes debug lines (telemetry/log.ts's debugLogger), else undefined. */
export interface StageDebug {
  routing: DebugLog | undefined;
  auth: DebugLog | undefined;
}

/**

 * `access`: keys, counters, budgets and recorders for authenticate and admit (its `debug` defaults to
 * `debug.auth`). `routing`: the aliases, breakers, deployment statistics and recorder dispatch routes with.
 * `cache`: the response cache (routing.cache.store) for the chat routes of aliases that cache; absent: none.
 * `meter`: counts the raw passthrough's bytes; the passthrough is served when it is given and some provider
 * has `passthrough: true`.
 */
export function buildRoutes(
  compiled: CompiledConfig, providers: ReadonlyMap<string, Provider>, access: AccessDeps, finish: Finish, debug: StageDebug, routing: RoutingDeps,
  cache?: Omit<ResponseCacheDeps, 'aliases'>, meter?: Pick<Recorder, 'passthroughBytes'>,
): ApiRoute[] {
  const withDebug: AccessDeps = { debug: debug.auth, ...access };
  const authenticate = createAuthenticate(withDebug);
  const admit = createAdmit(withDebug);
  const routeTable = buildRouteTable(routing.aliases, providers, routing.stats);
  const planChat = createPlan(routeTable, 'chat');
  const chatDispatch = (decode: Decode) => createChatDispatch(routeTable, routing, decode, debug.routing);
  const cached = createResponseCache(cache && { ...cache, aliases: routing.aliases.values() });
  const modelList = renderModels(compiled.models.values(), new Date());
  const models: Stage[] = [authenticate, (ctx) => ctx.reply.json(200, modelList(ctx))];

  const table: (Omit<ApiRoute, 'endpoint'> & { stages: Stage[] })[] = [
    {
      method: 'POST', path: '/v1/chat/completions', dialect: 'openai', operation: 'chat',
      stages: [authenticate, acceptOpenAIChat, planChat, admit, ...cached(chatDispatch(decodeOpenAIChat), encodeChat)],
    },
    {
      method: 'POST', path: '/v1/messages', dialect: 'anthropic', operation: 'chat',
      stages: [authenticate, acceptAnthropicMessages, planChat, admit, ...cached(chatDispatch(decodeAnthropicMessages), encodeChat)],
    },
    {
      method: 'POST', path: '/v1/responses', dialect: 'openai', operation: 'chat',
      stages: [
        authenticate, acceptOpenAIResponses, planChat, admit,
        createResponsesDispatch(routeTable, routing, decodeOpenAIResponses, debug.routing), encodeResponses,
      ],
    },
    {
      method: 'POST', path: '/v1/embeddings', dialect: 'openai', operation: 'embeddings',
      stages: [
        authenticate, acceptOpenAIEmbeddings, createPlan(routeTable, 'embedding'), admit,
        createEmbeddingsDispatch(routeTable, routing, debug.routing), encodeEmbeddings,
      ],
    },
    {
      method: 'POST', path: '/v1/completions', dialect: 'openai', operation: 'text_completion',
      stages: [
        authenticate, acceptOpenAICompletions, planChat, createCompletionsCheck(routeTable), admit,
        createDispatch(routeTable, routing, completionAttempt, debug.routing), encodeChat,
      ],
    },
    // Token counting: no admit stage (routing/count-tokens.ts says why).
    {
      method: 'POST', path: '/v1/messages/count_tokens', dialect: 'anthropic', operation: 'count_tokens',
      stages: [authenticate, acceptCountTokens, planChat, createCountTokens(routeTable, answerTokenEstimate)],
    },
    {
      method: 'POST', path: '/v1/responses/input_tokens', dialect: 'openai', operation: 'count_tokens',
      stages: [authenticate, acceptCountTokens, planChat, createCountTokens(routeTable, answerTokenEstimate)],
    },
    { method: 'GET', path: '/v1/models', dialect: 'either', operation: 'chat', stages: models },
    { method: 'GET', path: '/v1/models/{model...}', dialect: 'either', operation: 'chat', stages: models },
  ];
  const passthrough = [...providers.values()].filter((p) => (compiled.config.providers[p.id] as { passthrough?: boolean } | undefined)?.passthrough && p.forward);
  if (meter && passthrough.length > 0) {
    table.push({ method: 'POST', path: '/v1/{path...}', dialect: 'openai', operation: 'passthrough', stages: [authenticate, createRawPassthrough(passthrough, meter)] });
  }
  return table.map(({ stages, ...route }) => ({ ...route, endpoint: compose(stages, finish) }));
}

/**
 * Runs the stages in order; the first GatewayError stops them and is reported. What the request holds (a
 * streaming deployment) is released, then `finish` runs, always.
 */
export function compose(stages: Stage[], finish: Finish): Endpoint {
  return async (ctx) => {
    try {
      for (const stage of stages) {
        const pending = stage(ctx);
        if (pending) await pending; // most stages are synchronous: no microtask for them
      }
    } catch (err) {
      ctx.error = toGatewayError(err);
      ctx.status = ctx.reply.started ? ctx.status : ctx.error.status;
      ctx.reply.fail(ctx.error);
    } finally {
      const held = ctx.held;
      if (held) {
        ctx.held = undefined;
        held.release(ctx);
      }
      finish(ctx);
    }
  };
}
