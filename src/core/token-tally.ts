// What the text of a request adds up to, read straight from the client's body in its own dialect with no
// tokenizer: characters and UTF-8 bytes over the text a model reads (system prompt, messages, tool
// definitions, tool calls and results, Responses `instructions` and `input` items), plus tokens not counted by
// bytes (message framing, media allowances). policy/estimate.ts turns a tally into its reservation and budget
// figures; the token counting endpoints (routing/count-tokens.ts) answer from it when no upstream counts.
export const CHARS_PER_TOKEN = 4;
/** Role and separator tokens the chat templates add around each message (OpenAI documents 3–4). */
const MESSAGE_FRAMING_TOKENS = 8;
/** OpenAI and Anthropic bill an image at well under 2,000 tokens. */
const IMAGE_TOKENS = 2000;

export interface Tally {
  chars: number;
  bytes: number;
  /** Tokens not counted by bytes: message framing and media allowances. */
  extra: number;
}

export const emptyTally = (): Tally => ({ chars: 0, bytes: 0, extra: 0 });

/** Characters / 4, rounded up: the providers' own rule of thumb for English. */
export const charEstimate = (tally: Tally): number => Math.ceil(tally.chars / CHARS_PER_TOKEN);

/**
 * An upper bound: a byte-level BPE token covers at least one byte, so UTF-8 bytes plus framing and media
 * allowances cannot be below what a provider counts.
 */
export const tokenBound = (tally: Tally): number => tally.bytes + tally.extra;

/** A chat body of either dialect (and a Responses body): system, instructions, messages or input items, tools. */
export function tallyChat(body: Record<string, any>, tally: Tally): void {
  text(body.system, tally);
  text(body.instructions, tally);
  if (Array.isArray(body.messages)) for (const message of body.messages) messageText(message, tally);
  if (typeof body.input === 'string') addString(body.input, tally);
  else if (Array.isArray(body.input)) for (const item of body.input) messageText(item, tally);
  if (Array.isArray(body.tools)) addString(JSON.stringify(body.tools), tally);
}

/** Embeddings input or a legacy completion prompt: a string, strings, or already tokenised arrays (one token per number). */
export function tallyPrompt(input: unknown, tally: Tally): void {
  if (typeof input === 'string') addString(input, tally);
  if (!Array.isArray(input)) return;
  for (const item of input) {
    if (typeof item === 'string') addString(item, tally);
    else tokens(typeof item === 'number' ? 1 : Array.isArray(item) ? item.length : 0, tally);
  }
}

function addString(value: string, tally: Tally): void {
  tally.chars += value.length;
  tally.bytes += Buffer.byteLength(value);
}

/** A message, or a Responses input item (a message, a function call with `arguments`, or its `output`). */
function messageText(message: any, tally: Tally): void {
  if (!message || typeof message !== 'object') return;
  tally.extra += MESSAGE_FRAMING_TOKENS;
  text(message.content, tally);
  text(message.arguments, tally);
  text(message.output, tally);
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
      if (part.type === 'document' || part.type === 'file' || part.type === 'input_file') {
        tally.bytes += Buffer.byteLength(JSON.stringify(part.source ?? part.file ?? part.file_data ?? ''));
      }
    }
  }
}

/** Already tokenised input: exact on both figures. */
function tokens(count: number, tally: Tally): void {
  tally.chars += count * CHARS_PER_TOKEN;
  tally.bytes += count;
}
