// OpenAI Embeddings as a client dialect.
import type { EmbeddingsResult } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { invalid, requireString } from './validate.ts';

/** Above any real embedding model's size; bounds what a request can make the mock allocate. */
const MAX_DIMENSIONS = 16_384;

export function acceptOpenAIEmbeddings(ctx: RequestContext): void {
  const body = ctx.body;
  ctx.requestedModel = requireString(body.model, 'model');
  const input = body.input;
  const ok = (typeof input === 'string' && input !== '') || (Array.isArray(input) && input.length > 0);
  if (!ok) throw invalid('input must be a non-empty string or array', 'input');
  if (body.stream === true) throw invalid('embeddings cannot be streamed', 'stream');
  const dimensions = body.dimensions;
  if (dimensions !== undefined && !(Number.isInteger(dimensions) && dimensions >= 1 && dimensions <= MAX_DIMENSIONS)) {
    throw invalid(`dimensions must be an integer from 1 to ${MAX_DIMENSIONS}`, 'dimensions');
  }
}

export function encodeOpenAIEmbeddings(result: EmbeddingsResult, model: string): string {
  return JSON.stringify({
    object: 'list',
    data: result.vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model,
    usage: { prompt_tokens: result.usage.inputTokens, total_tokens: result.usage.inputTokens },
  });
}
