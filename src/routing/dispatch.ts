// Dispatch: hand the request to the target's provider, decoding to the canonical shape only when the
// provider does not speak the client's dialect. (Retries and fallbacks join here in a later issue.)
import type { ChatRequest } from '../core/canonical.ts';
import type { RequestContext, Stage } from '../core/context.ts';
import type { Provider } from '../providers/provider.ts';
import type { DebugLog } from '../telemetry/log.ts';

export type Decode = (body: Record<string, any>) => ChatRequest;

/** `debug`: the routing module's logger, only when it writes debug lines. */
export function createChatDispatch(providers: ReadonlyMap<string, Provider>, decode: Decode, debug?: DebugLog): Stage {
  return async (ctx: RequestContext) => {
    const target = ctx.target!;
    const provider = providers.get(target.providerId)!;
    const passthrough = provider.dialect === ctx.dialect;
    if (!passthrough) ctx.chat = decode(ctx.body);
    if (debug) debug.debug(attempt(ctx, provider, passthrough), 'upstream attempt');
    ctx.output = await provider.chat(ctx, target);
  };
}

export function createEmbeddingsDispatch(providers: ReadonlyMap<string, Provider>, debug?: DebugLog): Stage {
  return async (ctx: RequestContext) => {
    const target = ctx.target!;
    const provider = providers.get(target.providerId)!;
    if (debug) debug.debug(attempt(ctx, provider, provider.dialect === ctx.dialect), 'upstream attempt');
    ctx.output = await provider.embeddings(ctx, target);
  };
}

function attempt(ctx: RequestContext, provider: Provider, passthrough: boolean): Record<string, unknown> {
  const mode = passthrough ? 'passthrough' : 'translated';
  return { request_id: ctx.requestId, provider: provider.id, upstream_model: ctx.target!.upstreamModel, stream: ctx.body.stream === true, mode };
}
