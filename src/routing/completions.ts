// Legacy completions (`POST /v1/completions`) to OpenAI and OpenAI-compatible providers: the client's body
// with the model replaced, the answer relayed as it came (JSON, or SSE event by event), its usage read so
// the call is billed, limited and recorded like chat. Nothing translates them: any other provider is refused.
import type { Attempt } from '../core/attempt.ts';
import type { ChatOutput, FinishReason, Usage } from '../core/canonical.ts';
import type { RequestContext, Stage } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { formatSse, parseSse } from '../core/sse.ts';
import { askForUsage } from '../providers/openai.ts';
import type { Provider } from '../providers/provider.ts';
import { parseUpstreamJson } from '../providers/shared/parse-json.ts';
import { passthroughBody } from '../providers/shared/passthrough-body.ts';
import { streamErrorEvent, truncatedStream } from '../providers/shared/stream-end.ts';
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

const usageOf = (u: any): Usage => ({ inputTokens: u?.prompt_tokens ?? 0, outputTokens: u?.completion_tokens ?? 0, cachedInputTokens: u?.prompt_tokens_details?.cached_tokens ?? 0 });

const finishOf = (reason: unknown): FinishReason => (reason === 'length' ? 'length' : reason === 'content_filter' ? 'content_filter' : 'stop');

/**
 * Every event forwarded as its data came, noting first token, finish and usage; the usage chunk (which has no
 * choices) is hidden from a client that did not ask for it. Complete at `[DONE]` or a finish reason.
 */
async function* relayStream(ctx: RequestContext, attempt: Attempt, chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let complete = false;
  for await (const { data } of parseSse(chunks)) {
    if (data === '[DONE]') {
      complete = true;
      yield formatSse(data);
      continue;
    }
    const chunk = parseUpstreamJson(data);
    if (chunk.error) throw streamErrorEvent(chunk);
    const choice = chunk.choices?.[0];
    if (attempt.firstTokenAt < 0 && choice?.text) attempt.firstTokenAt = performance.now() - ctx.startedAt;
    if (choice?.finish_reason) {
      ctx.finishReason = finishOf(choice.finish_reason);
      complete = true;
    }
    if (chunk.usage) {
      attempt.usage = usageOf(chunk.usage);
      if (!ctx.streamUsage && !choice) continue;
    }
    yield formatSse(data);
  }
  if (!complete) throw truncatedStream();
}
