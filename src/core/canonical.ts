// The one internal shape every client dialect decodes into and every provider translates from,
// so N surfaces and M providers need N + M translators, not N × M.
import { GatewayError } from './errors.ts';

/**
 * What a request asks for: the GenAI operation of spans and metrics (`chat` for chat completions, Anthropic
 * messages and OpenAI responses alike), or a gateway endpoint that calls no model (`count_tokens`), or bytes
 * relayed unmodelled (`passthrough`). The API a request used is its route (and `apiOf` in telemetry).
 */
export type Operation = 'chat' | 'text_completion' | 'embeddings' | 'count_tokens' | 'passthrough' | 'admin';
export type Dialect = 'openai' | 'anthropic';

/**
 * A request field a translation cannot carry faithfully (surfaces/translation-table.ts): 400 in the client's
 * shape naming it (`param`); `field` is the refusal metric's bounded label (the table's row name).
 */
export class TranslationRefusal extends GatewayError {
  readonly field: string;
  constructor(param: string, field: string, target: Dialect) {
    super('GW_REQUEST_UNSUPPORTED', `${param} cannot be translated faithfully for a provider of the ${target} dialect`, { param });
    this.field = field;
  }
}

export interface TextPart { type: 'text'; text: string }
export interface ImagePart { type: 'image'; url: string }
export interface ToolUsePart { type: 'tool_use'; id: string; name: string; arguments: string }
export interface ToolResultPart { type: 'tool_result'; toolUseId: string; content: string; isError?: boolean }
export type ContentPart = TextPart | ImagePart | ToolUsePart | ToolResultPart;

export interface Message {
  role: 'user' | 'assistant';
  content: ContentPart[];
}

export interface ToolDef { name: string; description?: string; parameters: unknown }
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ChatRequest {
  model: string;
  system: string | undefined;
  messages: Message[];
  maxTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  stop: string[] | undefined;
  tools: ToolDef[] | undefined;
  toolChoice: ToolChoice | undefined;
  stream: boolean;
  /** The client asked for usage on its stream (OpenAI `stream_options.include_usage`). */
  streamUsage: boolean;
  /** Structured output as chat completions' `response_format`; only set for upstreams that enforce it (Responses `text.format`). */
  responseFormat?: Record<string, unknown>;
  /** false: at most one tool call per turn (OpenAI `parallel_tool_calls`, Anthropic `disable_parallel_tool_use`). */
  parallelToolCalls?: boolean;
  /** An opaque end-user id (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (a subset of inputTokens; Anthropic only, absent means 0). */
  cacheWriteTokens?: number;
}

export interface ChatResult {
  /** The upstream's own id, for reference: clients get one minted in their dialect, as do the tool calls in `content` (surfaces/reply-ids.ts). */
  id?: string;
  model: string;
  content: ContentPart[];
  finishReason: FinishReason;
  usage: Usage;
}

/** A streamed response as a sequence of small events; surfaces encode them chunk by chunk. */
export type StreamEvent =
  /**
   * `usage`: the input side (inputTokens, cachedInputTokens) when the provider knows it as the answer
   * starts, for dialects that report it there (Anthropic's message_start).
   */
  | { type: 'start'; id?: string; model: string; usage?: Usage }
  | { type: 'text'; text: string }
  /** `id`: the upstream's, for reference; the client's surface names the call in its own form. */
  | { type: 'tool_call'; index: number; id: string; name: string }
  | { type: 'tool_args'; index: number; delta: string }
  | { type: 'finish'; reason: FinishReason }
  | { type: 'usage'; usage: Usage };

export interface EmbeddingsRequest {
  model: string;
  input: string[];
  dimensions: number | undefined;
  encodingFormat: 'float' | 'base64' | undefined;
}

export interface EmbeddingsResult {
  model: string;
  vectors: number[][] | string[];
  usage: Usage;
}

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0 });

/**
 * What a provider answers, in one of four forms. `json` and `sse` are already in the client's dialect
 * (passthrough: full fidelity when client and provider speak the same API); `result` and `events` are
 * canonical and the client's surface encodes them.
 */
export type ChatOutput =
  | { kind: 'json'; body: string | Buffer }
  | { kind: 'sse'; chunks: AsyncIterable<string> }
  | { kind: 'result'; result: ChatResult }
  | { kind: 'events'; events: AsyncIterable<StreamEvent> };

export type EmbeddingsOutput = { kind: 'json'; body: string | Buffer } | { kind: 'result'; result: EmbeddingsResult };
