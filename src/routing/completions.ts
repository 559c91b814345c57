// Legacy completions (`POST /v1/completions`) to OpenAI and OpenAI-compatible providers: the client's body
// with the model replaced, the answer relayed as it came (JSON, or SSE event by event), its usage read so
// the call is billed, limited and recorded like chat. Nothing translates them: any other provider is refused.
import type { Attempt } from '../core/attempt.ts';
import type { ChatOutput } from '../core/canonical.ts';
import type { RequestContext, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { askForUsage, finishOf, relayStream, usageOf } from '../providers/openai.ts';
import type { Provider } from '../providers/provider.ts';
import { parseUpstreamJson } from '../providers/shared/parse-json.ts';
import { passthroughBody } from '../providers/shared/passthrough-body.ts';
import type { RouteTable } from './plan.ts';

const servesCompletions = (provider: Provider) => provider.kind === 'openai' || provider.kind === 'openai-compatible';

const unsupported = (provider: Provider) =>
  new GatewayError('GW_REQUEST_UNSUPPORTED', `model is served by provider "${provider.id}" (${provider.kind}), which has no legacy completions API`, { param: 'model' });

/** After plan: a model none of whose deployments serves completions is refused before anything is reserved or sent. */
export function createCompletionsCheck(routes: RouteTable): Stage {
  return (ctx) => {
    const providers = routes.get(ctx.alias!.name)!.providers;
    if (!providers.some(servesCompletions)) throw unsupported(providers[0]);
  };
}

/** The call for routing/dispatch.ts's attempt loop: one attempt's completion, a fallback's other provider refused alike. */
export async function completionAttempt(provider: Provider, ctx: RequestContext, attempt: Attempt): Promise<ChatOutput> {
  if (!servesCompletions(provider) || !provider.forward) throw unsupported(provider);
  const body = passthroughBody(ctx, attempt.target, askForUsage);
  const res = await provider.forward(ctx, attempt, { method: 'POST', path: '/completions', body });
  if (ctx.stream) return { kind: 'sse', chunks: relayStream(ctx, attempt, res.chunks) };
  const bytes = await res.bytes();
  const parsed = parseUpstreamJson(bytes.toString('utf8'));
  attempt.usage = usageOf(parsed.usage);
  ctx.finishReason = finishOf(parsed.choices?.[0]?.finish_reason);
  return { kind: 'json', body: bytes };
}
