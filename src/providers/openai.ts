// OpenAI Chat Completions / Embeddings upstreams: `openai` itself and every OpenAI-compatible server
// (OpenRouter, vLLM, Ollama, LM Studio …), which differ only in data: base URL, key and extra headers.
import type { Attempt } from '../core/attempt.ts';
import type { ChatOutput, ChatRequest, ChatResult, ContentPart, EmbeddingsOutput, FinishReason, StreamEvent, Usage } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { formatSse, parseSse } from '../core/sse.ts';
import { responsesCall } from './openai-responses.ts';
import type { Provider, Send } from './provider.ts';
import { parseUpstreamJson } from './shared/parse-json.ts';
import { passthroughBody } from './shared/passthrough-body.ts';
import { streamErrorEvent, truncatedStream } from './shared/stream-end.ts';
import { wholeAnswer } from './shared/whole-answer.ts';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export function createOpenAIProvider(init: {
  id: string;
  kind: 'openai' | 'openai-compatible';
  send: Send;
  apiKey: string | undefined;
  headers: Record<string, string>;
  unavailableReason: string | undefined;
  /** The upstream serves the Responses API itself (providers[].responses_api). */
  responsesApi?: boolean;
}): Provider {
  const named: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  if (init.apiKey) named.authorization = `Bearer ${init.apiKey}`;
  const headers = Object.entries(named).flat();

  return {
    id: init.id,
    kind: init.kind,
    dialect: 'openai',
    unavailableReason: init.unavailableReason,
    supportsEmbeddings: true,
    responses: init.responsesApi ? responsesCall(init.send, headers) : undefined,

    async chat(ctx, attempt): Promise<ChatOutput> {
      // A Responses request arrives here decoded (ctx.chat): only a chat completions body passes through.
      const passthrough = ctx.dialect === 'openai' && ctx.route !== '/v1/responses';
      const target = attempt.target;
      const body = passthrough ? passthroughBody(ctx, target, askForUsage) : JSON.stringify(encodeRequest(ctx.chat!, target.upstreamModel));
      const res = await init.send(ctx, attempt, { path: '/chat/completions', headers, body });
      if (!ctx.stream) return wholeAnswer(ctx, attempt, res, passthrough, decodeResult);
      return passthrough
        ? { kind: 'sse', chunks: relayStream(ctx, attempt, res.chunks) }
        : { kind: 'events', events: decodeStream(res.chunks) };
    },

    async embeddings(ctx, attempt): Promise<EmbeddingsOutput> {
      const bytes = await (await init.send(ctx, attempt, { path: '/embeddings', headers, body: passthroughBody(ctx, attempt.target) })).bytes();
      const parsed = parseUpstreamJson(bytes.toString('utf8'));
      attempt.usage = { inputTokens: parsed.usage?.prompt_tokens ?? 0, outputTokens: 0, cachedInputTokens: 0 };
      return { kind: 'json', body: bytes };
    },

    forward(ctx, attempt, call) {
      const withType = call.contentType ? Object.entries({ ...named, 'content-type': call.contentType }).flat() : headers;
      return init.send(ctx, attempt, { method: call.method, path: call.path, headers: withType, body: call.body ?? '', relay: call.relay });
    },
  };
}

/** A stream's usage arrives only in a last chunk the request asks for (hidden again from clients that did not). */
export function askForUsage(body: Record<string, any>): Record<string, unknown> | undefined {
  if (body.stream_options?.include_usage === true) return undefined;
  return { stream_options: { ...body.stream_options, include_usage: true } };
}


const FINISH: Record<string, FinishReason> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls', function_call: 'tool_calls', content_filter: 'content_filter' };

/** An OpenAI finish reason, chat's or legacy completions' (a subset), in the canonical vocabulary. */
export const finishOf = (reason: unknown): FinishReason => FINISH[reason as string] ?? 'stop';

/** OpenAI usage (chat completions and legacy completions alike) in the canonical shape. */
export function usageOf(u: any): Usage {
  return { inputTokens: u?.prompt_tokens ?? 0, outputTokens: u?.completion_tokens ?? 0, cachedInputTokens: u?.prompt_tokens_details?.cached_tokens ?? 0 };
}

export function encodeRequest(req: ChatRequest, model: string): Record<string, unknown> {
  const messages: object[] = [];
  if (req.system) messages.push({ role: 'system', content: req.system });
  for (const m of req.messages) {
    const text = m.content.filter((p) => p.type === 'text' || p.type === 'image');
    const toolUses = m.content.filter((p) => p.type === 'tool_use');
    for (const p of m.content) {
      if (p.type === 'tool_result') messages.push({ role: 'tool', tool_call_id: p.toolUseId, content: p.content });
    }
    if (m.role === 'assistant') {
      if (!text.length && !toolUses.length) continue;
      messages.push({
        role: 'assistant',
        content: text.length ? text.map((p) => (p as { text: string }).text).join('') : null,
        ...(toolUses.length ? { tool_calls: toolUses.map((p) => ({ id: p.id, type: 'function', function: { name: p.name, arguments: p.arguments } })) } : {}),
      });
    } else if (text.length) {
      messages.push({ role: 'user', content: text.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image_url', image_url: { url: p.url } })) });
    }
  }
  const body: Record<string, unknown> = { model, messages, stream: req.stream };
  if (req.stream) body.stream_options = { include_usage: true };
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop) body.stop = req.stop;
  if (req.tools) body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  if (req.responseFormat) body.response_format = req.responseFormat;
  if (req.toolChoice) body.tool_choice = typeof req.toolChoice === 'string' ? req.toolChoice : { type: 'function', function: { name: req.toolChoice.name } };
  if (req.parallelToolCalls === false && req.tools) body.parallel_tool_calls = false;
  if (req.user !== undefined) body.user = req.user;
  return body;
}

export function decodeResult(parsed: any): ChatResult {
  const choice = parsed?.choices?.[0];
  if (!choice) throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'response has no choices');
  const content: ContentPart[] = [];
  if (choice.message?.content) content.push({ type: 'text', text: choice.message.content });
  for (const call of choice.message?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function?.name, arguments: call.function?.arguments ?? '{}' });
  }
  return { id: parsed.id ?? '', model: parsed.model ?? '', content, finishReason: finishOf(choice.finish_reason), usage: usageOf(parsed.usage) };
}

/**
 * Passthrough stream, of chat completions or legacy completions (routing/completions.ts): forward events
 * untouched, note usage and first token, hide the usage chunk unless asked for. Complete once a finish reason
 * or `[DONE]` came; an error event or an earlier end is thrown.
 */
export async function* relayStream(ctx: RequestContext, attempt: Attempt, chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
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
    // The first token: a chat delta's text or tool call, or a legacy completion's text.
    if (attempt.firstTokenAt < 0 && (choice?.delta?.content || choice?.delta?.tool_calls || choice?.text)) attempt.firstTokenAt = performance.now() - ctx.startedAt;
    for (const call of choice?.delta?.tool_calls ?? []) if (call.function?.name) ctx.toolCalls.push(call.function.name);
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

/** Cross-dialect stream: OpenAI chunks → canonical events, with the same completion rule as relayStream. */
export async function* decodeStream(chunks: AsyncIterable<Buffer>): AsyncGenerator<StreamEvent> {
  let started = false;
  let complete = false;
  for await (const { data } of parseSse(chunks)) {
    if (data === '[DONE]') {
      complete = true;
      break;
    }
    const chunk = parseUpstreamJson(data);
    if (chunk.error) throw streamErrorEvent(chunk);
    if (!started) {
      started = true;
      yield { type: 'start', id: chunk.id ?? '', model: chunk.model ?? '' };
    }
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) yield { type: 'text', text: choice.delta.content };
    for (const call of choice?.delta?.tool_calls ?? []) {
      if (call.id) yield { type: 'tool_call', index: call.index ?? 0, id: call.id, name: call.function?.name ?? '' };
      if (call.function?.arguments) yield { type: 'tool_args', index: call.index ?? 0, delta: call.function.arguments };
    }
    if (choice?.finish_reason) {
      complete = true;
      yield { type: 'finish', reason: finishOf(choice.finish_reason) };
    }
    if (chunk.usage) yield { type: 'usage', usage: usageOf(chunk.usage) };
  }
  if (!complete) throw truncatedStream();
}
