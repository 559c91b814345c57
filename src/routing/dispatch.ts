// Dispatch: the attempt loop. Each attempt is a record on the context (core/attempt.ts) handed to the
// target's provider, which translates (decoding to the canonical shape only when it does not speak the
// client's dialect) and sends; the transport and the provider write the attempt. A failed attempt is
// followed by another only while the limit allows, its error is retryable and the request is still
// wanted. Nothing has reached the client yet: encode, the next stage, opens the response.
import type { Attempt } from '../core/attempt.ts';
import type { ChatOutput, ChatRequest, EmbeddingsOutput } from '../core/canonical.ts';
import type { RequestContext, Stage } from '../core/context.ts';
import { toGatewayError } from '../core/errors.ts';
import type { Provider } from '../providers/provider.ts';
import type { DebugLog } from '../telemetry/log.ts';

export type Decode = (body: Record<string, any>) => ChatRequest;

/** One attempt's call into its provider; made once per endpoint, so the loop makes no closure per request. */
type Call = (provider: Provider, ctx: RequestContext, attempt: Attempt) => Promise<ChatOutput | EmbeddingsOutput>;

/**
 * `debug`: the routing module's logger, only when it writes debug lines. `maxAttempts`: how many attempts a
 * request may make; 1, no retries, unless a caller asks for more.
 */
export function createChatDispatch(providers: ReadonlyMap<string, Provider>, decode: Decode, debug?: DebugLog, maxAttempts = 1): Stage {
  return createDispatch(providers, (provider, ctx, attempt) => {
    if (provider.dialect !== ctx.dialect) ctx.chat ??= decode(ctx.body);
    return provider.chat(ctx, attempt);
  }, debug, maxAttempts);
}

export function createEmbeddingsDispatch(providers: ReadonlyMap<string, Provider>, debug?: DebugLog, maxAttempts = 1): Stage {
  return createDispatch(providers, (provider, ctx, attempt) => provider.embeddings(ctx, attempt), debug, maxAttempts);
}

function createDispatch(providers: ReadonlyMap<string, Provider>, call: Call, debug: DebugLog | undefined, maxAttempts: number): Stage {
  return async (ctx: RequestContext) => {
    for (;;) {
      const attempt = ctx.addAttempt(ctx.target!);
      const provider = providers.get(attempt.target.providerId)!;
      if (debug) debug.debug(describe(ctx, attempt, provider), 'upstream attempt');
      try {
        ctx.output = await call(provider, ctx, attempt);
        return;
      } catch (err) {
        const error = toGatewayError(err);
        attempt.error = error;
        if (ctx.attempts.length >= maxAttempts || !error.retryable || ctx.abortReason) throw error;
      }
    }
  };
}

function describe(ctx: RequestContext, attempt: Attempt, provider: Provider): Record<string, unknown> {
  const mode = provider.dialect === ctx.dialect ? 'passthrough' : 'translated';
  return { request_id: ctx.requestId, provider: provider.id, upstream_model: attempt.target.upstreamModel, stream: ctx.body.stream === true, mode };
}
