// A request's tokens before the call, for the TPM reservation and the budget's worst case. Deliberately
// cheap (no tokenizer): characters / 4, rounded up, over the text a model reads — messages, system prompt,
// tool definitions and tool calls — read straight from the client's body in its own dialect. Four characters
// per token is the providers' own rule of thumb for English; settlement replaces the estimate with the real
// usage, so a miss only shifts when a limit bites, never what is billed.
import type { RequestContext } from '../core/context.ts';

const CHARS_PER_TOKEN = 4;

export interface Estimate {
  /** Input tokens, estimated. */
  readonly input: number;
  /** The most output the request may produce: its max_tokens, else budgets.default_max_output_tokens (0 for embeddings). */
  readonly maxOutput: number;
}

export function estimateRequest(ctx: RequestContext, defaultMaxOutput: number): Estimate {
  const body = ctx.body;
  if (ctx.operation === 'embeddings') return { input: embeddingTokens(body.input), maxOutput: 0 };
  let chars = textLength(body.system);
  if (Array.isArray(body.messages)) for (const message of body.messages) chars += messageLength(message);
  if (Array.isArray(body.tools)) chars += JSON.stringify(body.tools).length;
  const asked = ctx.dialect === 'openai' ? body.max_completion_tokens ?? body.max_tokens : body.max_tokens;
  return { input: Math.ceil(chars / CHARS_PER_TOKEN), maxOutput: positiveInteger(asked) ?? defaultMaxOutput };
}

function messageLength(message: any): number {
  if (!message || typeof message !== 'object') return 0;
  let chars = textLength(message.content);
  if (Array.isArray(message.tool_calls)) for (const call of message.tool_calls) chars += textLength(call?.function?.arguments) + textLength(call?.function?.name);
  return chars;
}

/** A string, or a list of content parts (OpenAI parts, Anthropic blocks): their text, tool inputs and results. */
function textLength(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let chars = 0;
  for (const part of content) {
    if (typeof part === 'string') chars += part.length;
    else if (part && typeof part === 'object') {
      if (typeof part.text === 'string') chars += part.text.length;
      if (part.input !== undefined) chars += JSON.stringify(part.input).length; // Anthropic tool_use
      if (part.content !== undefined) chars += textLength(part.content); // Anthropic tool_result
    }
  }
  return chars;
}

/** Embeddings input: a string, strings, or already tokenised arrays (one token per number). */
function embeddingTokens(input: unknown): number {
  if (typeof input === 'string') return Math.ceil(input.length / CHARS_PER_TOKEN);
  if (!Array.isArray(input)) return 0;
  if (input.every((item) => typeof item === 'number')) return input.length;
  let tokens = 0;
  for (const item of input) tokens += Array.isArray(item) ? item.length : typeof item === 'string' ? Math.ceil(item.length / CHARS_PER_TOKEN) : 0;
  return tokens;
}

const positiveInteger = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);
