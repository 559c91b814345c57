// The only place the order of stages is written down: one list per endpoint, composed at start-up.
import type { CompiledConfig } from '../config/compile.ts';
import type { RequestContext, Stage } from '../core/context.ts';
import { toGatewayError } from '../core/errors.ts';
import { createAuthenticate } from '../policy/authenticate.ts';
import type { Provider } from '../providers/provider.ts';
import { createChatDispatch, createEmbeddingsDispatch, type Decode } from '../routing/dispatch.ts';
import { createPlan } from '../routing/plan.ts';
import { acceptAnthropicMessages, decodeAnthropicMessages } from '../surfaces/anthropic-messages.ts';
import { acceptOpenAIChat, decodeOpenAIChat } from '../surfaces/openai-chat.ts';
import { acceptOpenAIEmbeddings } from '../surfaces/openai-embeddings.ts';
import { renderModels } from '../surfaces/models.ts';
import type { KeyLookup } from '../store/ports.ts';
import type { DebugLog } from '../telemetry/log.ts';
import { encodeChat, encodeEmbeddings } from './encode.ts';
import type { Finish } from './finish.ts';

export type Endpoint = (ctx: RequestContext) => Promise<void>;

export interface Endpoints {
  chatCompletions: Endpoint;
  messages: Endpoint;
  embeddings: Endpoint;
  models: Endpoint;
}

/** Per module, its logger when it writes debug lines (telemetry/log.ts's debugLogger), else undefined. */
export interface StageDebug {
  routing: DebugLog | undefined;
  auth: DebugLog | undefined;
}

/** `keys`: undefined for an open gateway (store/factory.ts). */
export function buildEndpoints(compiled: CompiledConfig, providers: ReadonlyMap<string, Provider>, keys: KeyLookup | undefined, finish: Finish, debug: StageDebug): Endpoints {
  const authenticate = createAuthenticate(keys, debug.auth);
  const planChat = createPlan(compiled.models, providers, 'chat', debug.routing);
  const chatDispatch = (decode: Decode) => createChatDispatch(providers, decode, debug.routing);
  const models = renderModels(compiled.models.values(), new Date());
  const endpoint = (stages: Stage[]) => compose(stages, finish);

  return {
    chatCompletions: endpoint([authenticate, acceptOpenAIChat, planChat, chatDispatch(decodeOpenAIChat), encodeChat]),
    messages: endpoint([authenticate, acceptAnthropicMessages, planChat, chatDispatch(decodeAnthropicMessages), encodeChat]),
    embeddings: endpoint([
      authenticate, acceptOpenAIEmbeddings, createPlan(compiled.models, providers, 'embedding', debug.routing),
      createEmbeddingsDispatch(providers, debug.routing), encodeEmbeddings,
    ]),
    models: endpoint([authenticate, (ctx) => ctx.reply.json(200, models(ctx))]),
  };
}

/** Runs the stages in order; the first GatewayError stops them and is reported. `finish` always runs. */
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
      finish(ctx);
    }
  };
}
