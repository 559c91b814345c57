import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamEvent } from '../core/canonical.ts';
import { GatewayError } from '../core/errors.ts';
import { encodeOpenAIResponse, encodeOpenAIResponseStream } from './openai-responses-encode.ts';
import { decodeOpenAIResponses } from './openai-responses.ts';

const refusedParam = (body: Record<string, unknown>, kind: Parameters<typeof decodeOpenAIResponses>[1] = 'anthropic') => {
  try {
    decodeOpenAIResponses({ model: 'm', input: 'x', ...body }, kind);
  } catch (err) {
    assert.ok(err instanceof GatewayError && err.code === 'GW_REQUEST_UNSUPPORTED', String(err));
    return err.param;
  }
  return undefined;
};

test('decode: instructions and developer items join the system prompt; items fold by role into canonical messages', () => {
  const req = decodeOpenAIResponses({
    model: 'm', instructions: 'Be terse.', max_output_tokens: 64, temperature: 0.2, top_p: 0.9, stream: true,
    tools: [{ type: 'function', name: 'f', description: 'd', parameters: { type: 'object' } }], tool_choice: { type: 'function', name: 'f' },
    input: [
      { role: 'developer', content: 'Use tools.' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      { role: 'assistant', content: [{ type: 'output_text', text: 'calling' }] },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'ok' },
    ],
  }, 'anthropic');
  assert.equal(req.system, 'Be terse.\n\nUse tools.');
  assert.deepEqual(req.messages, [
    { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'calling' }, { type: 'tool_use', id: 'call_1', name: 'f', arguments: '{"a":1}' }] },
    { role: 'user', content: [{ type: 'tool_result', toolUseId: 'call_1', content: 'ok' }] },
  ]);
  assert.deepEqual([req.maxTokens, req.temperature, req.topP, req.stream, req.streamUsage], [64, 0.2, 0.9, true, true]);
  assert.deepEqual(req.tools, [{ name: 'f', description: 'd', parameters: { type: 'object' } }]);
  assert.deepEqual(req.toolChoice, { name: 'f' });
});

test('decode: text.format maps to response_format on chat-completions upstreams only', () => {
  const schema = { type: 'json_schema', name: 'n', schema: { type: 'object' }, strict: true };
  assert.deepEqual(decodeOpenAIResponses({ model: 'm', input: 'x', text: { format: schema } }, 'openai-compatible').responseFormat,
    { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object' }, strict: true } });
  assert.equal(decodeOpenAIResponses({ model: 'm', input: 'x', text: { format: { type: 'text' } } }, 'anthropic').responseFormat, undefined);
  assert.equal(refusedParam({ text: { format: schema } }, 'anthropic'), 'text.format');
  assert.equal(refusedParam({ text: { format: schema } }, 'mock'), 'text.format');
});

test('decode: what a stateless chat translation cannot honour is refused by name', () => {
  assert.equal(refusedParam({ previous_response_id: 'resp_1' }), 'previous_response_id');
  assert.equal(refusedParam({ store: true }), 'store');
  assert.equal(refusedParam({ store: false }), undefined);
  assert.equal(refusedParam({ reasoning: { effort: 'low' } }), 'reasoning');
  assert.equal(refusedParam({ tools: [{ type: 'file_search', vector_store_ids: [] }] }, 'openai-compatible'), 'tools[0].type');
  assert.equal(refusedParam({ tool_choice: { type: 'web_search_preview' } }), 'tool_choice');
  assert.equal(refusedParam({ include: ['reasoning.encrypted_content'] }), 'include');
  assert.equal(refusedParam({ input: [{ type: 'reasoning', summary: [] }] }), 'input[0].type');
  assert.equal(refusedParam({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }), 'input[0].content');
});

test('encode: a result with text and a call → a response object with msg_ and fc_ items and Responses usage', () => {
  const body = JSON.parse(encodeOpenAIResponse({
    model: 'up', finishReason: 'tool_calls', usage: { inputTokens: 10, outputTokens: 4, cachedInputTokens: 3 },
    content: [{ type: 'text', text: 'Hi' }, { type: 'tool_use', id: 'toolu_1', name: 'f', arguments: '{}' }],
  }, 'alias'));
  assert.match(body.id, /^resp_/);
  assert.deepEqual([body.object, body.status, body.model], ['response', 'completed', 'alias']);
  assert.match(body.output[0].id, /^msg_/);
  assert.deepEqual(body.output[0].content, [{ type: 'output_text', text: 'Hi', annotations: [] }]);
  assert.match(body.output[1].id, /^fc_/);
  assert.match(body.output[1].call_id, /^call_/);
  assert.deepEqual(body.usage, {
    input_tokens: 10, input_tokens_details: { cached_tokens: 3 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 14,
  });
  const cut = JSON.parse(encodeOpenAIResponse({ model: 'up', finishReason: 'length', usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 }, content: [] }, 'a'));
  assert.deepEqual([cut.status, cut.incomplete_details], ['incomplete', { reason: 'max_output_tokens' }]);
});

async function* from(events: StreamEvent[]): AsyncGenerator<StreamEvent> {
  yield* events;
}

test('encode stream: the typed event sequence, numbered, text then a call, completed with usage', async () => {
  const out: any[] = [];
  for await (const sse of encodeOpenAIResponseStream(from([
    { type: 'start', model: 'up' },
    { type: 'text', text: 'He' }, { type: 'text', text: 'y' },
    { type: 'tool_call', index: 0, id: 'x', name: 'f' },
    { type: 'tool_args', index: 0, delta: '{"a"' }, { type: 'tool_args', index: 0, delta: ':1}' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', usage: { inputTokens: 5, outputTokens: 2, cachedInputTokens: 0 } },
  ]), 'alias')) {
    const [eventLine, dataLine] = sse.split('\n');
    const data = JSON.parse(dataLine.slice('data: '.length));
    assert.equal(eventLine, `event: ${data.type}`);
    out.push(data);
  }
  assert.deepEqual(out.map((e) => e.type), [
    'response.created', 'response.in_progress',
    'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
    'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
    'response.function_call_arguments.done', 'response.output_item.done', 'response.completed',
  ]);
  assert.deepEqual(out.map((e) => e.sequence_number), out.map((_, i) => i));
  assert.equal(out[6].text, 'Hey');
  assert.equal(out[12].arguments, '{"a":1}');
  const done = out.at(-1).response;
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.output.map((i: any) => [i.type, i.status]), [['message', 'completed'], ['function_call', 'completed']]);
  assert.equal(done.output[1].id, out[9].item.id);
  assert.deepEqual([done.usage.input_tokens, done.usage.output_tokens, done.usage.total_tokens], [5, 2, 7]);
});
