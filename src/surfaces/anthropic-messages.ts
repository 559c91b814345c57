// Anthropic Messages as a client dialect: validate and decode requests, encode canonical results and
// stream events into `message` objects and the message_start … message_stop event sequence.
import type { ChatRequest, ChatResult, ContentPart, Dialect, FinishReason, Message, StreamEvent, ToolChoice, Usage } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { formatSse } from '../core/sse.ts';
import { mintId } from './reply-ids.ts';
import { refuseUntranslatable } from './translation-table.ts';
import { checkRange, invalid, optionalNumber, requireArray, requireString } from './validate.ts';

export function acceptAnthropicMessages(ctx: RequestContext): void {
  const body = ctx.body;
  ctx.requestedModel = requireString(body.model, 'model');
  requireArray(body.messages, 'messages');
  if (body.max_tokens == null) throw invalid('max_tokens: Field required', 'max_tokens');
  // Values Anthropic rejects, for passthrough and translated requests alike.
  checkRange(body.max_tokens, 'max_tokens', 1, Infinity, true);
  checkRange(body.temperature, 'temperature', 0, 1);
  checkRange(body.top_p, 'top_p', 0, 1);
  ctx.stream = body.stream === true;
  ctx.streamUsage = ctx.stream; // Anthropic streams always carry usage
}

/** `target`: the provider's dialect; what it cannot be given faithfully is refused (translation-table.ts). */
export function decodeAnthropicMessages(body: Record<string, any>, target: Dialect | undefined): ChatRequest {
  if (target) refuseUntranslatable('anthropic-messages', body, target);
  const messages: Message[] = (body.messages as any[]).map((m, i) => {
    if (m?.role !== 'user' && m?.role !== 'assistant') throw invalid(`messages.${i}.role must be "user" or "assistant"`, `messages.${i}.role`);
    return { role: m.role, content: blocksOf(m.content) };
  });
  const system = typeof body.system === 'string' ? body.system
    : Array.isArray(body.system) ? body.system.map((b: any) => b?.text ?? '').join('\n\n') : undefined;
  return {
    model: body.model,
    system: system || undefined,
    messages,
    maxTokens: optionalNumber(body.max_tokens, 'max_tokens'),
    temperature: optionalNumber(body.temperature, 'temperature'),
    topP: optionalNumber(body.top_p, 'top_p'),
    stop: Array.isArray(body.stop_sequences) ? body.stop_sequences.map(String) : undefined,
    tools: Array.isArray(body.tools)
      ? body.tools.map((t: any) => ({ name: t.name, description: t.description, parameters: t.input_schema ?? { type: 'object' } }))
      : undefined,
    toolChoice: toolChoiceOf(body.tool_choice),
    stream: body.stream === true,
    streamUsage: body.stream === true,
    parallelToolCalls: body.tool_choice?.disable_parallel_tool_use === true ? false : undefined,
    user: typeof body.metadata?.user_id === 'string' ? body.metadata.user_id : undefined,
  };
}

function toolChoiceOf(choice: any): ToolChoice | undefined {
  switch (choice?.type) {
    case 'auto': return 'auto';
    case 'any': return 'required';
    case 'none': return 'none';
    case 'tool': return { name: choice.name };
    default: return undefined;
  }
}

function blocksOf(content: unknown): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid('message content must be a string or an array of blocks', 'messages');
  return content.map((b: any): ContentPart => {
    switch (b?.type) {
      case 'text': return { type: 'text', text: String(b.text) };
      case 'image':
        return { type: 'image', url: b.source?.type === 'url' ? b.source.url : `data:${b.source?.media_type};base64,${b.source?.data}` };
      case 'tool_use': return { type: 'tool_use', id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}) };
      case 'tool_result': {
        const text = typeof b.content === 'string' ? b.content
          : Array.isArray(b.content) ? b.content.map((c: any) => c?.text ?? '').join('') : '';
        return { type: 'tool_result', toolUseId: b.tool_use_id, content: text, isError: b.is_error === true };
      }
      default: throw new GatewayError('GW_REQUEST_UNSUPPORTED', `content block type "${b?.type}"`);
    }
  });
}

export const STOP_REASON: Record<FinishReason, string> = {
  stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal', error: 'end_turn',
};

/** Anthropic counts cache reads and writes beside input_tokens; the canonical input includes both. */
const usageOf = (u: Usage, outputTokens = u.outputTokens) => {
  const written = u.cacheWriteTokens ?? 0;
  return {
    input_tokens: u.inputTokens - u.cachedInputTokens - written,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: u.cachedInputTokens,
    output_tokens: outputTokens,
  };
};

function blockOf(part: ContentPart): object | undefined {
  if (part.type === 'text') return { type: 'text', text: part.text };
  if (part.type === 'tool_use') return { type: 'tool_use', id: mintId('toolu_'), name: part.name, input: parseArgs(part.arguments) };
  return undefined;
}

function parseArgs(args: string): unknown {
  try {
    return JSON.parse(args || '{}');
  } catch {
    return {};
  }
}

export function encodeAnthropicMessage(result: ChatResult, model: string): string {
  return JSON.stringify({
    id: mintId('msg_'),
    type: 'message',
    role: 'assistant',
    model,
    content: result.content.map(blockOf).filter(Boolean),
    stop_reason: STOP_REASON[result.finishReason],
    stop_sequence: null,
    usage: usageOf(result.usage),
  });
}

/** Canonical stream events → Anthropic's block-structured event sequence. */
export async function* encodeAnthropicStream(events: AsyncIterable<StreamEvent>, model: string): AsyncGenerator<string> {
  const emit = (type: string, payload: object) => formatSse(JSON.stringify({ type, ...payload }), type);
  let open: 'text' | number | undefined; // the open block: text, or a tool call index
  let blockIndex = -1;
  let stopReason = 'end_turn';
  let finished = false;
  function* close() {
    if (open !== undefined) yield emit('content_block_stop', { index: blockIndex });
    open = undefined;
  }
  function* finish(usage: Usage | undefined) {
    yield* close();
    yield emit('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: usage ? usageOf(usage) : { output_tokens: 0 } });
    yield emit('message_stop', {});
    finished = true;
  }
  for await (const event of events) {
    switch (event.type) {
      case 'start':
        // Input usage here when the provider knows it this early (the mock); otherwise message_delta brings it.
        yield emit('message_start', {
          message: {
            id: mintId('msg_'), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
            usage: event.usage ? usageOf(event.usage, 0) : { input_tokens: 0, output_tokens: 0 },
          },
        });
        break;
      case 'text':
        if (open !== 'text') {
          yield* close();
          open = 'text';
          yield emit('content_block_start', { index: ++blockIndex, content_block: { type: 'text', text: '' } });
        }
        yield emit('content_block_delta', { index: blockIndex, delta: { type: 'text_delta', text: event.text } });
        break;
      case 'tool_call':
        yield* close();
        open = event.index;
        yield emit('content_block_start', { index: ++blockIndex, content_block: { type: 'tool_use', id: mintId('toolu_'), name: event.name, input: {} } });
        break;
      case 'tool_args':
        yield emit('content_block_delta', { index: blockIndex, delta: { type: 'input_json_delta', partial_json: event.delta } });
        break;
      case 'finish':
        stopReason = STOP_REASON[event.reason];
        break;
      case 'usage':
        yield* finish(event.usage);
        break;
    }
  }
  if (!finished) yield* finish(undefined);
}
