// Canonical answers back into OpenAI Responses: a whole `response` object, or the typed stream events the
// SDKs fold into one (response.created … response.completed), each with its `sequence_number`. Ids are
// minted in Responses form (resp_…, msg_…, fc_…, call_…): a translated answer has none of its own.
import type { ChatResult, FinishReason, StreamEvent, Usage } from '../core/canonical.ts';
import { formatSse } from '../core/sse.ts';
import { mintId } from './reply-ids.ts';

interface OutputText { type: 'output_text'; text: string; annotations: never[] }
interface MessageItem { type: 'message'; id: string; status: string; role: 'assistant'; content: OutputText[] }
interface FunctionCallItem { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: string }
type OutputItem = MessageItem | FunctionCallItem;

export const usageOf = (u: Usage) => ({
  input_tokens: u.inputTokens,
  input_tokens_details: { cached_tokens: u.cachedInputTokens },
  output_tokens: u.outputTokens,
  // Canonical usage does not split reasoning tokens out of the output count.
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: u.inputTokens + u.outputTokens,
});

/** The `response` object: `status` and `incomplete_details` from the finish reason; `usage` once known. */
function responseOf(id: string, createdAt: number, model: string, output: OutputItem[], finish: FinishReason | undefined, usage: Usage | undefined) {
  const incomplete = finish === 'length' || finish === 'content_filter';
  return {
    id, object: 'response', created_at: createdAt,
    status: finish === undefined ? 'in_progress' : incomplete ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: incomplete ? { reason: finish === 'length' ? 'max_output_tokens' : 'content_filter' } : null,
    model, output, parallel_tool_calls: true, tool_choice: 'auto', tools: [],
    usage: usage ? usageOf(usage) : null,
  };
}

const messageItem = (text: string, status: string): MessageItem => ({
  type: 'message', id: mintId('msg_'), status, role: 'assistant', content: text === '' && status === 'in_progress' ? [] : [outputText(text)],
});
const outputText = (text: string): OutputText => ({ type: 'output_text', text, annotations: [] });

export function encodeOpenAIResponse(result: ChatResult, model: string): string {
  const output: OutputItem[] = [];
  const text = result.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
  if (text) output.push(messageItem(text, 'completed'));
  for (const p of result.content) {
    if (p.type === 'tool_use') output.push({ type: 'function_call', id: mintId('fc_'), call_id: mintId('call_'), name: p.name, arguments: p.arguments, status: 'completed' });
  }
  return JSON.stringify(responseOf(mintId('resp_'), Math.floor(Date.now() / 1000), model, output, result.finishReason, result.usage));
}

/** Canonical stream events → Responses SSE events, in the order OpenAI sends them. */
export async function* encodeOpenAIResponseStream(events: AsyncIterable<StreamEvent>, model: string): AsyncGenerator<string> {
  const id = mintId('resp_');
  const createdAt = Math.floor(Date.now() / 1000);
  const output: OutputItem[] = [];
  let sequence = 0;
  const emit = (type: string, fields: object) => formatSse(JSON.stringify({ type, sequence_number: sequence++, ...fields }), type);
  /** The message item text goes to, while it is the last item; a call after it closes it. */
  let message: MessageItem | undefined;
  let text = '';
  /** Canonical tool index → its output item. */
  const calls = new Map<number, FunctionCallItem>();
  let finish: FinishReason | undefined;
  let usage: Usage | undefined;

  function* closeMessage(): Generator<string> {
    if (!message) return;
    const item = message;
    const at = output.indexOf(item);
    const common = { item_id: item.id, output_index: at, content_index: 0 };
    yield emit('response.output_text.done', { ...common, text });
    yield emit('response.content_part.done', { ...common, part: outputText(text) });
    item.status = 'completed';
    item.content = [outputText(text)];
    yield emit('response.output_item.done', { output_index: at, item });
    message = undefined;
  }

  for await (const event of events) {
    switch (event.type) {
      case 'start':
        if (event.usage) usage = event.usage;
        yield emit('response.created', { response: responseOf(id, createdAt, model, [], undefined, undefined) });
        yield emit('response.in_progress', { response: responseOf(id, createdAt, model, [], undefined, undefined) });
        break;
      case 'text': {
        if (!message) {
          message = messageItem('', 'in_progress');
          text = '';
          output.push(message);
          const at = output.length - 1;
          yield emit('response.output_item.added', { output_index: at, item: { ...message, content: [] } });
          yield emit('response.content_part.added', { item_id: message.id, output_index: at, content_index: 0, part: outputText('') });
        }
        text += event.text;
        yield emit('response.output_text.delta', { item_id: message.id, output_index: output.indexOf(message), content_index: 0, delta: event.text });
        break;
      }
      case 'tool_call': {
        yield* closeMessage();
        const item: FunctionCallItem = { type: 'function_call', id: mintId('fc_'), call_id: mintId('call_'), name: event.name, arguments: '', status: 'in_progress' };
        calls.set(event.index, item);
        output.push(item);
        yield emit('response.output_item.added', { output_index: output.length - 1, item: { ...item } });
        break;
      }
      case 'tool_args': {
        const item = calls.get(event.index);
        if (!item) break;
        item.arguments += event.delta;
        yield emit('response.function_call_arguments.delta', { item_id: item.id, output_index: output.indexOf(item), delta: event.delta });
        break;
      }
      case 'finish':
        finish = event.reason;
        break;
      case 'usage':
        usage = event.usage;
        break;
    }
  }
  yield* closeMessage();
  for (const item of calls.values()) {
    const at = output.indexOf(item);
    yield emit('response.function_call_arguments.done', { item_id: item.id, output_index: at, arguments: item.arguments });
    item.status = 'completed';
    yield emit('response.output_item.done', { output_index: at, item });
  }
  const response = responseOf(id, createdAt, model, output, finish ?? 'stop', usage);
  yield emit(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
}
