// OpenAI's legacy Completions (`POST /v1/completions`) as a client dialect. Never translated: the body goes
// to OpenAI and OpenAI-compatible servers as it is, with the model replaced (routing/completions.ts), so only
// what the gateway itself acts on is read here.
import type { RequestContext } from '../core/context.ts';
import { invalid, requireString } from './validate.ts';

export function acceptOpenAICompletions(ctx: RequestContext): void {
  const body = ctx.body;
  ctx.requestedModel = requireString(body.model, 'model');
  const prompt = body.prompt;
  if (prompt !== undefined && typeof prompt !== 'string' && !Array.isArray(prompt)) throw invalid('prompt must be a string or an array', 'prompt');
  ctx.stream = body.stream === true;
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  ctx.streamUsage = ctx.stream && options?.include_usage === true;
}
