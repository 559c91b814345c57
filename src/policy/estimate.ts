// A request's tokens before the call, read straight from the client's body in its own dialect, with no
// tokenizer (the counting is core/token-tally.ts, shared with the token counting endpoints): two figures
// over the text a model reads (messages, system prompt, tool definitions, tool calls and results).
// - `input`: characters / 4, rounded up (the providers' own rule of thumb for English), for the TPM
//   reservation: settlement replaces it with the real usage, so a miss only shifts when a limit bites.
// - `inputBound`: an upper bound, for budgets, whose promise is that concurrent requests cannot spend past the
//   cap: UTF-8 bytes (a byte-level BPE token covers at least one byte), plus each message's framing tokens,
//   plus a fixed allowance per image or document (OpenAI and Anthropic bill an image at well under 2,000
//   tokens; a document part is counted by its bytes).
import type { RequestContext } from '../core/context.ts';
import { charEstimate, emptyTally, tallyChat, tallyPrompt, tokenBound, type Tally } from '../core/token-tally.ts';

export interface Estimate {
  /** Input tokens, estimated. */
  readonly input: number;
  /** Input tokens the request cannot exceed. */
  readonly inputBound: number;
  /** The most output the request may produce: its max_tokens, else budgets.default_max_output_tokens (0 for embeddings). */
  readonly maxOutput: number;
}

export function estimateRequest(ctx: RequestContext, defaultMaxOutput: number): Estimate {
  const body = ctx.body;
  const tally = emptyTally();
  if (ctx.operation === 'embeddings') {
    tallyPrompt(body.input, tally);
    return done(tally, 0);
  }
  if (ctx.operation === 'text_completion') tallyPrompt(body.prompt, tally);
  else tallyChat(body, tally);
  const asked = ctx.dialect === 'openai' ? body.max_completion_tokens ?? body.max_output_tokens ?? body.max_tokens : body.max_tokens;
  return done(tally, positiveInteger(asked) ?? defaultMaxOutput);
}

const done = (tally: Tally, maxOutput: number): Estimate => ({ input: charEstimate(tally), inputBound: tokenBound(tally), maxOutput });

const positiveInteger = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);
