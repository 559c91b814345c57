// Dispatch: hand the request to the target's provider, decoding to the canonical shape only when the
// provider does not speak the client's dialect. (Retries and fallbacks join here in a later issue.)
import type { ChatRequest } from '../core/canonical.ts';
import type { RequestContext, Stage } from '../core/context.ts';
import type { Provider } from '../providers/provider.ts';

export type Decode = (body: Record<string, any>) => ChatRequest;

export function createChatDispatch(providers: ReadonlyMap<string, Provider>, decode: Decode): Stage {
  return async (ctx: RequestContext) => {
    const target = ctx.target!;
    const provider = providers.get(target.providerId)!;
    if (provider.dialect !== ctx.dialect) ctx.chat = decode(ctx.body);
    ctx.output = await provider.chat(ctx, target);
  };
}

export function createEmbeddingsDispatch(providers: ReadonlyMap<string, Provider>): Stage {
  return async (ctx: RequestContext) => {
    const target = ctx.target!;
    ctx.output = await providers.get(target.providerId)!.embeddings(ctx, target);
  };
}
