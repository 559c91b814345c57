import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamEvent } from '../core/canonical.ts';
import type { GatewayError } from '../core/errors.ts';
import { encodeRequest as encodeOpenAIRequest } from '../providers/openai.ts';
import { parseSse } from '../core/sse.ts';
import { testContext } from '../../test/helpers/context.ts';
import { acceptAnthropicMessages, decodeAnthropicMessages, encodeAnthropicMessage, encodeAnthropicStream } from './anthropic-messages.ts';

const contextWith = (body: Record<string, any>) => testContext({ route: '/v1/messages', dialect: 'anthropic', body });

const AGENT_TURN = {
  model: 'gpt-4o',
  max_tokens: 512,
  system: [{ type: 'text', text: 'Be terse.' }, { type: 'text', text: 'Use tools.' }],
  messages: [
    { role: 'user', content: 'Weather in Paris?' },
    {
      role: 'assistant', content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
      ],
    },
    {
      role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] },
        { type: 'text', text: 'And now?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0' } },
      ],
    },
  ],
  tools: [{ name: 'weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  tool_choice: { type: 'tool', name: 'weather' },
  stop_sequences: ['END'],
  top_p: 0.9,
  stream: true,
};

test('Anthropic request → canonical', () => {
  const req = decodeAnthropicMessages(AGENT_TURN, 'openai');
  assert.equal(req.system, 'Be terse.\n\nUse tools.');
  assert.equal(req.maxTokens, 512);
  assert.deepEqual(req.messages[1].content[1], { type: 'tool_use', id: 'toolu_1', name: 'weather', arguments: '{"city":"Paris"}' });
  assert.deepEqual(req.messages[2].content, [
    { type: 'tool_result', toolUseId: 'toolu_1', content: '18C', isError: false },
    { type: 'text', text: 'And now?' },
    { type: 'image', url: 'data:image/png;base64,iVBORw0' },
  ]);
  assert.deepEqual(req.toolChoice, { name: 'weather' });
  assert.equal(req.stream, true);
  assert.equal(req.streamUsage, true);
});

test('Anthropic request → canonical → OpenAI request', () => {
  const body = encodeOpenAIRequest(decodeAnthropicMessages(AGENT_TURN, 'openai'), 'gpt-4o-2024-08-06');
  assert.deepEqual(body, {
    model: 'gpt-4o-2024-08-06',
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 512,
    top_p: 0.9,
    stop: ['END'],
    messages: [
      { role: 'system', content: 'Be terse.\n\nUse tools.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      { role: 'user', content: [{ type: 'text', text: 'And now?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0' } }] },
    ],
    tools: [{ type: 'function', function: { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    tool_choice: { type: 'function', function: { name: 'weather' } },
  });
});

test('Anthropic tool_choice any/auto/none → OpenAI required/auto/none', () => {
  const base = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
  const choice = (tool_choice: unknown) => encodeOpenAIRequest(decodeAnthropicMessages({ ...base, tool_choice }, 'openai'), 'm').tool_choice;
  assert.equal(choice({ type: 'any' }), 'required');
  assert.equal(choice({ type: 'auto' }), 'auto');
  assert.equal(choice({ type: 'none' }), 'none');
  assert.equal(choice(undefined), undefined);
});

test('acceptAnthropicMessages: flags and validation errors with param', () => {
  const ctx = contextWith({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], stream: true });
  acceptAnthropicMessages(ctx);
  assert.equal(ctx.requestedModel, 'claude');
  assert.equal(ctx.stream, true);
  assert.equal(ctx.streamUsage, true);
  const cases: [Record<string, any>, string][] = [
    [{ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [{ model: 'c', max_tokens: 5, messages: 'x' }, 'messages'],
    [{ model: 'c', messages: [{ role: 'user', content: 'x' }] }, 'max_tokens'],
    ...([
      [{ max_tokens: 0 }, 'max_tokens'], [{ max_tokens: -3 }, 'max_tokens'], [{ max_tokens: 1.5 }, 'max_tokens'], [{ max_tokens: '5' }, 'max_tokens'],
      [{ temperature: 1.01 }, 'temperature'], [{ temperature: -0.1 }, 'temperature'], [{ top_p: 1.5 }, 'top_p'],
    ] as const).map(([values, param]): [Record<string, any>, string] => [{ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], ...values }, param]),
  ];
  for (const [body, param] of cases) {
    assert.throws(() => acceptAnthropicMessages(contextWith(body)), (err: GatewayError) => err.code === 'GW_REQUEST_INVALID' && err.param === param, JSON.stringify(body));
  }
  assert.doesNotThrow(() => acceptAnthropicMessages(contextWith({ model: 'c', max_tokens: 1, messages: [{ role: 'user', content: 'x' }], temperature: 1, top_p: 0 })));
  assert.throws(() => decodeAnthropicMessages({ model: 'c', max_tokens: 5, messages: [{ role: 'system', content: 'x' }] }, 'openai'),
    (err: GatewayError) => err.code === 'GW_REQUEST_INVALID' && err.param === 'messages.0.role');
  assert.throws(() => decodeAnthropicMessages({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], temperature: 'warm' }, 'openai'),
    (err: GatewayError) => err.code === 'GW_REQUEST_INVALID' && err.param === 'temperature');
  assert.throws(() => decodeAnthropicMessages({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'document' }] }] }, 'openai'),
    (err: GatewayError) => err.code === 'GW_REQUEST_UNSUPPORTED');
});

test('encodeAnthropicMessage: blocks, stop_reason and usage with cache reads split out; ids minted in Anthropic form', () => {
  const result = {
    id: 'chatcmpl-1', model: 'up', finishReason: 'length' as const, usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 60 },
    content: [{ type: 'text' as const, text: 'Hi' }, { type: 'tool_use' as const, id: 'call_1', name: 'f', arguments: '{"a":1}' }],
  };
  const json = JSON.parse(encodeAnthropicMessage(result, 'pub'));
  assert.match(json.id, /^msg_[0-9a-f]{24}$/);
  assert.match(json.content[1].id, /^toolu_[0-9a-f]{24}$/);
  const again = JSON.parse(encodeAnthropicMessage(result, 'pub'));
  assert.notEqual(again.id, json.id);
  assert.notEqual(again.content[1].id, json.content[1].id);
  assert.deepEqual(json, {
    id: json.id, type: 'message', role: 'assistant', model: 'pub',
    content: [{ type: 'text', text: 'Hi' }, { type: 'tool_use', id: json.content[1].id, name: 'f', input: { a: 1 } }],
    stop_reason: 'max_tokens', stop_sequence: null,
    usage: { input_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 60, output_tokens: 20 },
  });
});

async function* from(events: StreamEvent[]): AsyncGenerator<StreamEvent> {
  yield* events;
}

async function encoded(events: StreamEvent[]): Promise<{ event: string; data: any }[]> {
  let wire = '';
  for await (const s of encodeAnthropicStream(from(events), 'pub')) wire += s;
  const out: { event: string; data: any }[] = [];
  for await (const e of parseSse((async function* () { yield Buffer.from(wire); })())) {
    const data = JSON.parse(e.data);
    assert.equal(data.type, e.event, 'the event name matches the payload type');
    out.push({ event: e.event, data });
  }
  return out;
}

test('encodeAnthropicStream: text then two tool calls, stop_reason and usage', async () => {
  const events = await encoded([
    { type: 'start', id: 'chatcmpl-1', model: 'up' },
    { type: 'text', text: 'Let me ' },
    { type: 'text', text: 'check.' },
    { type: 'tool_call', index: 0, id: 'call_1', name: 'weather' },
    { type: 'tool_args', index: 0, delta: '{"city":"Oslo"}' },
    { type: 'tool_call', index: 1, id: 'call_2', name: 'time' },
    { type: 'tool_args', index: 1, delta: '{}' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', usage: { inputTokens: 30, outputTokens: 9, cachedInputTokens: 10 } },
  ]);
  assert.deepEqual(events.map((e) => e.event), [
    'message_start',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'message_delta', 'message_stop',
  ]);
  assert.match(events[0].data.message.id, /^msg_[0-9a-f]{24}$/, 'the id is minted in Anthropic form, not the upstream\'s');
  assert.equal(events[0].data.message.model, 'pub');
  assert.deepEqual(events[0].data.message.usage, { input_tokens: 0, output_tokens: 0 }, 'no input usage known at the start');
  assert.deepEqual(events.filter((e) => e.event !== 'message_start' && e.event !== 'message_delta' && e.event !== 'message_stop').map((e) => e.data.index),
    [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
  assert.deepEqual(events[1].data.content_block, { type: 'text', text: '' });
  assert.deepEqual(events[2].data.delta, { type: 'text_delta', text: 'Let me ' });
  const [first, second] = [events[5].data.content_block, events[8].data.content_block];
  assert.match(first.id, /^toolu_[0-9a-f]{24}$/);
  assert.match(second.id, /^toolu_[0-9a-f]{24}$/);
  assert.notEqual(first.id, second.id);
  assert.deepEqual(first, { type: 'tool_use', id: first.id, name: 'weather', input: {} });
  assert.deepEqual(events[6].data.delta, { type: 'input_json_delta', partial_json: '{"city":"Oslo"}' });
  assert.deepEqual(events[11].data, {
    type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 10, output_tokens: 9 },
  });
});

test('encodeAnthropicStream: input usage known at the start goes in message_start, the whole usage in message_delta', async () => {
  const usage = { inputTokens: 30, outputTokens: 9, cachedInputTokens: 10 };
  const events = await encoded([
    { type: 'start', model: 'up', usage: { ...usage, outputTokens: 0 } },
    { type: 'text', text: 'hi' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', usage },
  ]);
  assert.deepEqual(events[0].data.message.usage, { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 10, output_tokens: 0 });
  assert.deepEqual(events.at(-2)?.data.usage, { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 10, output_tokens: 9 });
});

test('encodeAnthropicStream: without a usage event the stream is still closed with end_turn/max_tokens', async () => {
  const events = await encoded([
    { type: 'start', id: 'msg_2', model: 'up' },
    { type: 'text', text: 'cut' },
    { type: 'finish', reason: 'length' },
  ]);
  assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  assert.equal(events[4].data.delta.stop_reason, 'max_tokens');
  assert.deepEqual(events[4].data.usage, { output_tokens: 0 });
});
