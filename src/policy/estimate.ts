// A request's tokens before the call, read straight from the client's body in its own dialect, with no
// tokenizer: two figures over the text a model reads (messages, system prompt, tool definitions, tool calls
// and results).
// - `input`: characters / 4, rounded up (the providers' own rule of thumb for English), for the TPM
//   reservation: settlement replaces it with the real usage, so a miss only shifts when a limit bites.
// - `inputBound`: an upper bound, for budgets, whose promise is that concurrent requests cannot spend past the
//   cap: UTF-8 bytes (a byte-level BPE token covers at least one byte), plus each message's framing tokens,
//   plus a fixed allowance per image or document (OpenAI and Anthropic bill an image at well under 2,000
//   tokens; a document part is counted by its bytes).
import type { RequestContext } from '../core/context.ts';

const CHARS_PER_TOKEN = 4;
/** Role and separator tokens the chat templates add around each message (OpenAI documents 3–4). */
const MESSAGE_FRAMING_TOKENS = 8;
const IMAGE_TOKENS = 2000;

export interface Estimate {
  /** Input tokens, estimated. */
  readonly input: number;
  /** Input tokens the request cannot exceed. */
  readonly inputBound: number;
  /** The most output the request may produce: its max_tokens, else budgets.default_max_output_tokens (0 for embeddings). */
  readonly maxOutput: number;
}

/** What the text of a request adds up to. */
interface Tally {
  chars: number;
  bytes: number;
  /** Tokens not counted by bytes: message framing and media allowances. */
  extra: number;
}

export function estimateRequest(ctx: RequestContext, defaultMaxOutput: number): Estimate {
  const body = ctx.body;
  const tally: Tally = { chars: 0, bytes: 0, extra: 0 };
  if (ctx.operation === 'embeddings') {
    embeddingsInput(body.input, tally);
    return done(tally, 0);
  }
  text(body.system, tally);
  if (Array.isArray(body.messages)) for (const message of body.messages) messageText(message, tally);
  if (Array.isArray(body.tools)) addString(JSON.stringify(body.tools), tally);
  const asked = ctx.dialect === 'openai' ? body.max_completion_tokens ?? body.max_tokens : body.max_tokens;
  return done(tally, positiveInteger(asked) ?? defaultMaxOutput);
}

const done = (tally: Tally, maxOutput: number): Estimate => ({
  input: Math.ceil(tally.chars / CHARS_PER_TOKEN), inputBound: tally.bytes + tally.extra, maxOutput,
});

function addString(value: string, tally: Tally): void {
  tally.chars += value.length;
  tally.bytes += Buffer.byteLength(value);
}

function messageText(message: any, tally: Tally): void {
  if (!message || typeof message !== 'object') return;
  tally.extra += MESSAGE_FRAMING_TOKENS;
  text(message.content, tally);
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      text(call?.function?.arguments, tally);
      text(call?.function?.name, tally);
    }
  }
}

/** A string, or a list of content parts (OpenAI parts, Anthropic blocks): their text, tool inputs and results, media. */
function text(content: unknown, tally: Tally): void {
  if (typeof content === 'string') addString(content, tally);
  if (!Array.isArray(content)) return;
  for (const part of content) {
    if (typeof part === 'string') addString(part, tally);
    else if (part && typeof part === 'object') {
      if (typeof part.text === 'string') addString(part.text, tally);
      if (part.input !== undefined) addString(JSON.stringify(part.input), tally); // Anthropic tool_use
      if (part.content !== undefined) text(part.content, tally); // Anthropic tool_result
      if (part.type === 'image_url' || part.type === 'image' || part.type === 'input_image') tally.extra += IMAGE_TOKENS;
      if (part.type === 'document' || part.type === 'file') tally.bytes += Buffer.byteLength(JSON.stringify(part.source ?? part.file ?? ''));
    }
  }
}

/** Embeddings input: a string, strings, or already tokenised arrays (one token per number). */
function embeddingsInput(input: unknown, tally: Tally): void {
  if (typeof input === 'string') addString(input, tally);
  if (!Array.isArray(input)) return;
  for (const item of input) {
    if (typeof item === 'string') addString(item, tally);
    else tokens(typeof item === 'number' ? 1 : Array.isArray(item) ? item.length : 0, tally);
  }
}

/** Already tokenised input: exact on both figures. */
function tokens(count: number, tally: Tally): void {
  tally.chars += count * CHARS_PER_TOKEN;
  tally.bytes += count;
}

const positiveInteger = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);
