// OpenAI Chat Completions as a client dialect: validate and decode requests, encode canonical results
// and stream events back into `chat.completion` / `chat.completion.chunk` objects.
import type { ChatRequest, ChatResult, ContentPart, Dialect, FinishReason, Message, StreamEvent, ToolChoice, Usage } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { formatSse } from '../core/sse.ts';
import { mintId } from './reply-ids.ts';
import { refuseUntranslatable } from './translation-table.ts';
import { checkRange, invalid, optionalNumber, requireArray, requireString } from './validate.ts';

/**
 * The few fields the gateway itself needs, and values OpenAI rejects (passthrough and translated requests
 * alike); the rest is the upstream's to validate (passthrough keeps them).
 */
export function acceptOpenAIChat(ctx: RequestContext): void {
  const body = ctx.body;
  ctx.requestedModel = requireString(body.model, 'model');
  requireArray(body.messages, 'messages');
  checkRange(body.max_tokens, 'max_tokens', 1, Infinity, true);
  checkRange(body.max_completion_tokens, 'max_completion_tokens', 1, Infinity, true);
  checkRange(body.temperature, 'temperature', 0, 2);
  checkRange(body.top_p, 'top_p', 0, 1);
  checkRange(body.n, 'n', 1, Infinity, true);
  ctx.stream = body.stream === true;
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  ctx.streamUsage = ctx.stream && options?.include_usage === true;
}

/** `target`: the provider's dialect; what it cannot be given faithfully is refused (translation-table.ts). */
export function decodeOpenAIChat(body: Record<string, any>, target: Dialect | undefined): ChatRequest {
  if (target) refuseUntranslatable('openai-chat', body, target);
  const system: string[] = [];
  const messages: Message[] = [];
  for (const [i, m] of (body.messages as any[]).entries()) {
    if (typeof m !== 'object' || m === null) throw invalid(`messages[${i}] must be an object`, `messages[${i}]`);
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content));
    else if (m.role === 'user') messages.push({ role: 'user', content: partsOf(m.content) });
    else if (m.role === 'assistant') {
      const content = m.content == null ? [] : partsOf(m.content);
      for (const call of m.tool_calls ?? []) {
        content.push({ type: 'tool_use', id: call.id, name: call.function?.name, arguments: call.function?.arguments ?? '{}' });
      }
      messages.push({ role: 'assistant', content });
    } else if (m.role === 'tool') {
      messages.push({ role: 'user', content: [{ type: 'tool_result', toolUseId: String(m.tool_call_id), content: textOf(m.content) }] });
    } else throw invalid(`messages[${i}].role "${m.role}" is not supported`, `messages[${i}].role`);
  }
  const stop = body.stop;
  return {
    model: body.model,
    system: system.length ? system.join('\n\n') : undefined,
    messages,
    maxTokens: optionalNumber(body.max_completion_tokens ?? body.max_tokens, 'max_tokens'),
    temperature: optionalNumber(body.temperature, 'temperature'),
    topP: optionalNumber(body.top_p, 'top_p'),
    stop: stop == null ? undefined : Array.isArray(stop) ? stop.map(String) : [String(stop)],
    tools: Array.isArray(body.tools)
      ? body.tools.map((t: any) => ({ name: t.function?.name, description: t.function?.description, parameters: t.function?.parameters ?? { type: 'object' } }))
      : undefined,
    toolChoice: toolChoiceOf(body.tool_choice),
    stream: body.stream === true,
    streamUsage: body.stream_options?.include_usage === true,
    parallelToolCalls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : undefined,
    user: typeof body.user === 'string' ? body.user : undefined,
  };
}

function toolChoiceOf(choice: any): ToolChoice | undefined {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (choice?.function?.name) return { name: choice.function.name };
  return undefined;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p?.type === 'text' ? p.text : '')).join('');
  return '';
}

function partsOf(content: unknown): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid('message content must be a string or an array of parts', 'messages');
  return content.map((p: any): ContentPart => {
    if (p?.type === 'text') return { type: 'text', text: String(p.text) };
    if (p?.type === 'image_url') return { type: 'image', url: String(p.image_url?.url) };
    throw new GatewayError('GW_REQUEST_UNSUPPORTED', `content part type "${p?.type}"`);
  });
}

const FINISH: Record<FinishReason, string> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls', content_filter: 'content_filter', error: 'stop' };

const usageOf = (u: Usage) => ({
  prompt_tokens: u.inputTokens,
  completion_tokens: u.outputTokens,
  total_tokens: u.inputTokens + u.outputTokens,
  prompt_tokens_details: { cached_tokens: u.cachedInputTokens },
});

export function encodeOpenAIChat(result: ChatResult, model: string): string {
  const text = result.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
  const toolCalls = result.content.flatMap((p) =>
    p.type === 'tool_use' ? [{ id: mintId('call_'), type: 'function', function: { name: p.name, arguments: p.arguments } }] : [],
  );
  return JSON.stringify({
    id: mintId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: { role: 'assistant', content: text || (toolCalls.length ? null : ''), ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
      finish_reason: FINISH[result.finishReason],
    }],
    usage: usageOf(result.usage),
  });
}

/** Canonical stream events → `chat.completion.chunk` SSE lines. */
export async function* encodeOpenAIChatStream(events: AsyncIterable<StreamEvent>, model: string, includeUsage: boolean): AsyncGenerator<string> {
  const id = mintId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finish: string | null = null) =>
    formatSse(JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] }));
  for await (const event of events) {
    switch (event.type) {
      case 'start':
        yield chunk({ role: 'assistant', content: '' });
        break;
      case 'text':
        yield chunk({ content: event.text });
        break;
      case 'tool_call':
        yield chunk({ tool_calls: [{ index: event.index, id: mintId('call_'), type: 'function', function: { name: event.name, arguments: '' } }] });
        break;
      case 'tool_args':
        yield chunk({ tool_calls: [{ index: event.index, function: { arguments: event.delta } }] });
        break;
      case 'finish':
        yield chunk({}, FINISH[event.reason]);
        break;
      case 'usage':
        if (includeUsage) yield formatSse(JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageOf(event.usage) }));
        break;
    }
  }
  yield formatSse('[DONE]');
}
