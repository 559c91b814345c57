// Anthropic Messages upstream: passthrough for Anthropic clients, canonical translation for the rest.
import type { Attempt } from '../core/attempt.ts';
import type { ChatOutput, ChatRequest, ChatResult, ContentPart, FinishReason, Message, StreamEvent, Usage } from '../core/canonical.ts';
import { emptyUsage } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { formatSse, parseSse } from '../core/sse.ts';
import type { Provider, Send } from './provider.ts';
import { parseUpstreamJson } from './shared/parse-json.ts';
import { passthroughBody } from './shared/passthrough-body.ts';
import { streamErrorEvent, truncatedStream } from './shared/stream-end.ts';
import { wholeAnswer } from './shared/whole-answer.ts';

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
const API_VERSION = '2023-06-01';
/** Anthropic requires max_tokens; OpenAI clients often omit it. */
const DEFAULT_MAX_TOKENS = 4096;

export function createAnthropicProvider(init: {
  id: string;
  send: Send;
  apiKey: string | undefined;
  headers: Record<string, string>;
  unavailableReason: string | undefined;
}): Provider {
  const baseHeaders: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': API_VERSION, ...init.headers };
  if (init.apiKey) baseHeaders['x-api-key'] = init.apiKey;
  const headers = Object.entries(baseHeaders).flat();

  return {
    id: init.id,
    kind: 'anthropic',
    dialect: 'anthropic',
    unavailableReason: init.unavailableReason,
    supportsEmbeddings: false,

    async chat(ctx, attempt): Promise<ChatOutput> {
      const passthrough = ctx.dialect === 'anthropic';
      const target = attempt.target;
      const body = passthrough ? passthroughBody(ctx, target) : JSON.stringify(encodeRequest(ctx.chat!, target.upstreamModel));
      const res = await init.send(ctx, attempt, { path: '/v1/messages', headers: headersFor(ctx, baseHeaders, headers), body });
      if (!ctx.stream) return wholeAnswer(ctx, attempt, res, passthrough, decodeResult);
      return passthrough ? { kind: 'sse', chunks: relayStream(ctx, attempt, res.chunks) } : { kind: 'events', events: decodeStream(res.chunks) };
    },

    async embeddings() {
      throw new GatewayError('GW_MODEL_WRONG_TYPE', 'Anthropic has no embeddings API');
    },

    forward(ctx, attempt, call) {
      const base = call.contentType ? { ...baseHeaders, 'content-type': call.contentType } : baseHeaders;
      return init.send(ctx, attempt, { method: call.method, path: `/v1${call.path}`, headers: headersFor(ctx, base, Object.entries(base).flat()), body: call.body ?? '' });
    },
  };
}

/**
 * An Anthropic client's `anthropic-version` and `anthropic-beta` (features it opted into) are its own to pass
 * on; the prebuilt list serves every request that sends neither (the OpenAI SDK's, and most of Anthropic's
 * carry only the version, which then costs one object per request).
 */
function headersFor(ctx: RequestContext, base: Record<string, string>, list: string[]): string[] {
  if (ctx.dialect !== 'anthropic') return list;
  const beta = ctx.headers['anthropic-beta'];
  const version = ctx.headers['anthropic-version'];
  const sameVersion = version === undefined || version === base['anthropic-version'];
  if (typeof beta !== 'string' && sameVersion) return list;
  const named: Record<string, string> = { ...base };
  if (typeof version === 'string') named['anthropic-version'] = version;
  if (typeof beta === 'string') named['anthropic-beta'] = beta;
  return Object.entries(named).flat();
}


const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter', pause_turn: 'stop',
};

function usageOf(u: any): Usage {
  const cached = u?.cache_read_input_tokens ?? 0;
  const written = u?.cache_creation_input_tokens ?? 0;
  return { inputTokens: (u?.input_tokens ?? 0) + cached + written, outputTokens: u?.output_tokens ?? 0, cachedInputTokens: cached, cacheWriteTokens: written };
}

function blockOf(part: ContentPart): object {
  switch (part.type) {
    case 'text': return { type: 'text', text: part.text };
    case 'image': {
      const data = /^data:([^;]+);base64,(.*)$/.exec(part.url);
      return { type: 'image', source: data ? { type: 'base64', media_type: data[1], data: data[2] } : { type: 'url', url: part.url } };
    }
    case 'tool_use': return { type: 'tool_use', id: part.id, name: part.name, input: parseArgs(part.arguments) };
    case 'tool_result': return { type: 'tool_result', tool_use_id: part.toolUseId, content: part.content, is_error: part.isError ?? false };
  }
}

function parseArgs(args: string): unknown {
  try {
    return JSON.parse(args || '{}');
  } catch {
    throw new GatewayError('GW_REQUEST_INVALID', 'tool call arguments are not valid JSON');
  }
}

export function encodeRequest(req: ChatRequest, model: string): Record<string, unknown> {
  // Anthropic wants strictly alternating roles: merge neighbours (e.g. several OpenAI tool messages).
  const messages: Message[] = [];
  for (const m of req.messages) {
    const last = messages.at(-1);
    // Anthropic rejects empty text blocks, which OpenAI clients send beside tool calls (content: "").
    const content = m.content.filter((p) => p.type !== 'text' || p.text !== '');
    if (last?.role === m.role) last.content = [...last.content, ...content];
    else messages.push({ role: m.role, content });
  }
  const body: Record<string, unknown> = {
    model,
    max_tokens: req.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages: messages.map((m) => ({ role: m.role, content: m.content.map(blockOf) })),
    stream: req.stream,
  };
  if (req.system) body.system = req.system;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop) body.stop_sequences = req.stop;
  if (req.tools) body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  if (req.toolChoice) {
    body.tool_choice = typeof req.toolChoice === 'object' ? { type: 'tool', name: req.toolChoice.name }
      : { type: req.toolChoice === 'required' ? 'any' : req.toolChoice };
  }
  if (req.parallelToolCalls === false && req.toolChoice !== 'none') {
    body.tool_choice = { ...(body.tool_choice as object ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  if (req.user !== undefined) body.metadata = { user_id: req.user };
  return body;
}

export function decodeResult(parsed: any): ChatResult {
  if (!Array.isArray(parsed?.content)) throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'response has no content');
  const content: ContentPart[] = [];
  for (const block of parsed.content) {
    if (block.type === 'text') content.push({ type: 'text', text: block.text });
    else if (block.type === 'tool_use') content.push({ type: 'tool_use', id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
  }
  return { id: parsed.id ?? '', model: parsed.model ?? '', content, finishReason: FINISH[parsed.stop_reason] ?? 'stop', usage: usageOf(parsed.usage) };
}

/**
 * Passthrough stream: forward each event as it came, noting usage and the first token. Complete once
 * `message_stop` came; an error event or an earlier end is thrown.
 */
async function* relayStream(ctx: RequestContext, attempt: Attempt, chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let complete = false;
  for await (const { event, data } of parseSse(chunks)) {
    if (event === 'message_start' || event === 'message_delta') {
      const parsed = parseUpstreamJson(data);
      const usage = event === 'message_start' ? parsed.message?.usage : parsed.usage;
      if (usage) mergeUsage(attempt.usage, usage);
      if (parsed.delta?.stop_reason) ctx.finishReason = FINISH[parsed.delta.stop_reason] ?? 'stop';
    } else if (event === 'content_block_delta' && attempt.firstTokenAt < 0) {
      attempt.firstTokenAt = performance.now() - ctx.startedAt;
    } else if (event === 'content_block_start' && data.includes('"tool_use"')) {
      const block = parseUpstreamJson(data).content_block;
      if (block?.type === 'tool_use') ctx.toolCalls.push(block.name);
      if (attempt.firstTokenAt < 0) attempt.firstTokenAt = performance.now() - ctx.startedAt;
    } else if (event === 'message_stop') {
      complete = true;
    } else if (event === 'error') {
      throw streamErrorEvent(parseUpstreamJson(data));
    }
    yield formatSse(data, event);
  }
  if (!complete) throw truncatedStream();
}

/**
 * message_start carries input usage, message_delta the running totals (output, and in newer API versions the
 * input side again, possibly with null cache fields): each figure is taken only where it is a number, and
 * the canonical input is then input + cache reads + cache writes again.
 */
function mergeUsage(into: Usage, raw: any): void {
  const uncached = into.inputTokens - into.cachedInputTokens - (into.cacheWriteTokens ?? 0);
  const input = typeof raw.input_tokens === 'number' ? raw.input_tokens : uncached;
  if (typeof raw.cache_read_input_tokens === 'number') into.cachedInputTokens = raw.cache_read_input_tokens;
  if (typeof raw.cache_creation_input_tokens === 'number') into.cacheWriteTokens = raw.cache_creation_input_tokens;
  into.inputTokens = input + into.cachedInputTokens + (into.cacheWriteTokens ?? 0);
  if (typeof raw.output_tokens === 'number') into.outputTokens = raw.output_tokens;
}

/** Cross-dialect stream: Anthropic events → canonical events, complete only at message_stop. */
export async function* decodeStream(chunks: AsyncIterable<Buffer>): AsyncGenerator<StreamEvent> {
  const usage: Usage = emptyUsage();
  let toolIndex = -1;
  for await (const { event, data } of parseSse(chunks)) {
    if (event === 'ping') continue;
    const parsed = parseUpstreamJson(data);
    switch (event) {
      case 'message_start':
        mergeUsage(usage, parsed.message?.usage ?? {});
        yield { type: 'start', id: parsed.message?.id ?? '', model: parsed.message?.model ?? '' };
        break;
      case 'content_block_start':
        if (parsed.content_block?.type === 'tool_use') {
          yield { type: 'tool_call', index: ++toolIndex, id: parsed.content_block.id, name: parsed.content_block.name };
        }
        break;
      case 'content_block_delta':
        if (parsed.delta?.type === 'text_delta') yield { type: 'text', text: parsed.delta.text };
        else if (parsed.delta?.type === 'input_json_delta') yield { type: 'tool_args', index: toolIndex, delta: parsed.delta.partial_json };
        break;
      case 'message_delta':
        mergeUsage(usage, parsed.usage ?? {});
        if (parsed.delta?.stop_reason) yield { type: 'finish', reason: FINISH[parsed.delta.stop_reason] ?? 'stop' };
        break;
      case 'message_stop':
        yield { type: 'usage', usage };
        return;
      case 'error':
        throw streamErrorEvent(parsed);
    }
  }
  throw truncatedStream(); // the body ended before message_stop
}
