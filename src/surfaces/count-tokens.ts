// The token counting endpoints as client dialects: Anthropic's `POST /v1/messages/count_tokens` and OpenAI's
// `POST /v1/responses/input_tokens`. What the gateway reads of them (the model), and the local estimate in
// each one's own answer shape, for when the provider behind the model cannot count (routing/count-tokens.ts).
import type { RequestContext } from '../core/context.ts';
import { emptyTally, tallyChat, tokenBound } from '../core/token-tally.ts';
import { requireString } from './validate.ts';

/** Marks an answer counted by the gateway, not by the model's provider. */
export const ESTIMATE_HEADER = 'x-vigil-token-estimate';

export function acceptCountTokens(ctx: RequestContext): void {
  ctx.requestedModel = requireString(ctx.body.model, 'model');
}

/**
 * The request's input tokens without a tokenizer, by the rules of policy/estimate.ts's budget bound
 * (core/token-tally.ts): UTF-8 bytes plus message framing and media allowances. Conservative on purpose: a
 * client sizes its context by this figure (Claude Code compacts on it), and an estimate over the real count
 * compacts a little early where one under it would overflow the model's window. Expect it to run 2–4× above
 * a real tokenizer on English text.
 */
export function estimateInputTokens(body: Record<string, any>): number {
  const tally = emptyTally();
  tallyChat(body, tally);
  return tokenBound(tally);
}

const ESTIMATED = { [ESTIMATE_HEADER]: 'true' };

/** The estimate in the asking dialect's shape (Anthropic `{input_tokens}`, OpenAI `response.input_tokens`), marked. */
export function answerTokenEstimate(ctx: RequestContext): void {
  const inputTokens = estimateInputTokens(ctx.body);
  const body = ctx.dialect === 'anthropic' ? { input_tokens: inputTokens } : { object: 'response.input_tokens', input_tokens: inputTokens };
  ctx.reply.json(200, JSON.stringify(body), ESTIMATED);
}
