// OpenAI's Responses API as an upstream (`/responses`), for a client speaking it: the body goes up with only
// its `model` replaced and the answer, whole or streamed, comes back byte for byte. The gateway reads what it
// records (usage, first token, tool calls, finish) from a copy and changes nothing.
import type { Attempt } from '../core/attempt.ts';
import type { ChatOutput, ChatResult, ContentPart, FinishReason, Usage } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { Send } from './provider.ts';
import { passthroughBody } from './shared/passthrough-body.ts';
import { streamErrorEvent, truncatedStream } from './shared/stream-end.ts';
import { wholeAnswer } from './shared/whole-answer.ts';

/** `headers`: the provider's, as [name, value, …]. */
export function responsesCall(send: Send, headers: string[]) {
  return async (ctx: RequestContext, attempt: Attempt): Promise<ChatOutput> => {
    const res = await send(ctx, attempt, { path: '/responses', headers, body: passthroughBody(ctx, attempt.target) });
    if (!ctx.stream) return wholeAnswer(ctx, attempt, res, true, decodeResponse);
    return { kind: 'sse', chunks: relayResponses(ctx, attempt, res.chunks) };
  };
}

export function usageOfResponse(u: any): Usage {
  return { inputTokens: u?.input_tokens ?? 0, outputTokens: u?.output_tokens ?? 0, cachedInputTokens: u?.input_tokens_details?.cached_tokens ?? 0 };
}

function finishOf(response: any, content: readonly ContentPart[]): FinishReason {
  if (response?.status === 'incomplete') return response.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length';
  if (response?.status === 'failed') return 'error';
  return content.some((p) => p.type === 'tool_use') ? 'tool_calls' : 'stop';
}

/** A `response` object → the canonical result the gateway records (the client gets the upstream's bytes). */
export function decodeResponse(parsed: any): ChatResult {
  if (parsed?.object !== 'response' || !Array.isArray(parsed.output)) throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'answer is not a response object');
  const content: ContentPart[] = [];
  for (const item of parsed.output) {
    if (item?.type === 'message') {
      for (const part of item.content ?? []) if (part?.type === 'output_text') content.push({ type: 'text', text: part.text });
    } else if (item?.type === 'function_call') {
      content.push({ type: 'tool_use', id: item.call_id, name: item.name, arguments: item.arguments ?? '{}' });
    }
  }
  return { id: parsed.id, model: parsed.model ?? '', content, finishReason: finishOf(parsed, content), usage: usageOfResponse(parsed.usage) };
}

/** The events that end a Responses stream; any other end is a truncated answer. */
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * The upstream's bytes, as they came (decoded to text only for the reply), while a copy is parsed for the
 * first token, tool calls, finish and usage (response.completed's). An `error` event or a failed response
 * is the upstream failing mid-answer: it reaches the client as sent, and then counts as the failure it is.
 */
async function* relayResponses(ctx: RequestContext, attempt: Attempt, chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  /** Where to resume looking for a blank line, so a large event arriving in pieces is scanned once. */
  let searchFrom = 0;
  let terminal = false;
  let failure: GatewayError | undefined;
  const note = (block: string) => {
    const event = dataOf(block);
    const type = event?.type;
    if (type === 'response.output_text.delta') {
      if (attempt.firstTokenAt < 0) attempt.firstTokenAt = performance.now() - ctx.startedAt;
    } else if (type === 'response.output_item.added' && event.item?.type === 'function_call') {
      if (attempt.firstTokenAt < 0) attempt.firstTokenAt = performance.now() - ctx.startedAt;
      ctx.toolCalls.push(event.item.name);
    } else if (type === 'error') {
      failure ??= streamErrorEvent({ error: event.error ?? event });
    } else if (TERMINAL.has(type)) {
      terminal = true;
      const result = decodeResponse(event.response);
      attempt.usage = result.usage;
      ctx.finishReason = result.finishReason;
      if (type === 'response.failed') failure ??= streamErrorEvent({ error: event.response?.error });
    }
  };
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    yield text;
    pending += text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
    let boundary = pending.indexOf('\n\n', searchFrom);
    while (boundary !== -1) {
      note(pending.slice(0, boundary));
      pending = pending.slice(boundary + 2);
      boundary = pending.indexOf('\n\n');
    }
    searchFrom = Math.max(0, pending.length - 1);
  }
  const tail = decoder.decode();
  if (tail) yield tail;
  if (pending.trim()) note(pending + tail);
  if (failure) throw failure;
  if (!terminal) throw truncatedStream();
}

/** An SSE block's data lines, parsed; undefined when it has none or they are not JSON (the client still got them). */
function dataOf(block: string): any {
  let data = '';
  for (const line of block.split('\n')) if (line.startsWith('data:')) data += line.slice(line[5] === ' ' ? 6 : 5);
  if (!data) return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
