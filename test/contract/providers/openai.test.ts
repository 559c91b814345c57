// The OpenAI decoders against recorded Chat Completions answers (fixtures/openai): JSON and SSE, text and
// parallel tool calls, the include_usage chunk with `choices: []` and cached-token details, and an error
// event mid-stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/core/errors.ts';
import { decodeResult, decodeStream } from '../../../src/providers/openai.ts';
import { READ_SIZES, decodeFixture, fixtureJson, reassemble } from './decode.ts';

const MODEL = 'gpt-4o-2024-08-06';
const WEATHER_ARGS = '{"location":"Oslo, Norway","unit":"celsius"}';
const TIME_ARGS = '{"timezone":"Europe/Oslo"}';

test('chat-text.json → one text part, stop, usage with the cached prompt tokens', () => {
  assert.deepEqual(decodeResult(fixtureJson('openai', 'chat-text')), {
    id: 'chatcmpl-BQx2lC8RuJ5f0n9PpaVqZ1kE3yTgh', model: MODEL,
    content: [{ type: 'text', text: 'The capital of Norway is Oslo.' }],
    finishReason: 'stop',
    usage: { inputTokens: 1342, outputTokens: 8, cachedInputTokens: 1280 },
  });
});

test('chat-tool-calls.json → two tool_use parts with their ids and argument strings, tool_calls, usage', () => {
  assert.deepEqual(decodeResult(fixtureJson('openai', 'chat-tool-calls')), {
    id: 'chatcmpl-BQx3aT4mN8vW2rLk6HdYp0sJcQeUf', model: MODEL,
    content: [
      { type: 'tool_use', id: 'call_Xk3pQ9vR2mT7bN1sLw8yD4eH', name: 'get_weather', arguments: WEATHER_ARGS },
      { type: 'tool_use', id: 'call_Jd6fA0cK5uE8hG2iOq9zR3tM', name: 'get_time', arguments: TIME_ARGS },
    ],
    finishReason: 'tool_calls',
    usage: { inputTokens: 214, outputTokens: 51, cachedInputTokens: 0 },
  });
});

test('chat-text.sse → start, the text deltas, finish, then usage from the `choices: []` chunk; at every read size', async () => {
  for (const size of READ_SIZES) {
    const { events, error } = await decodeFixture(decodeStream, 'openai', 'chat-text', size);
    assert.equal(error, undefined, `read size ${size}`);
    assert.deepEqual(events[0], { type: 'start', id: 'chatcmpl-BQx4kV7nR1pZ9sTm3GfYb8wLcXeQa', model: MODEL });
    assert.equal(reassemble(events).text, 'The capital of Norway is Oslo.');
    assert.deepEqual(events.slice(-2), [
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { inputTokens: 1342, outputTokens: 8, cachedInputTokens: 1280 } },
    ]);
    assert.equal(events.filter((e) => e.type === 'usage').length, 1, 'the `usage: null` on every chunk is no usage');
  }
});

test('chat-tool-calls.sse → a tool_call per index with its id and name, arguments in pieces that join to the JSON', async () => {
  for (const size of READ_SIZES) {
    const { events, error } = await decodeFixture(decodeStream, 'openai', 'chat-tool-calls', size);
    assert.equal(error, undefined, `read size ${size}`);
    assert.deepEqual(events.filter((e) => e.type === 'tool_call'), [
      { type: 'tool_call', index: 0, id: 'call_Xk3pQ9vR2mT7bN1sLw8yD4eH', name: 'get_weather' },
      { type: 'tool_call', index: 1, id: 'call_Jd6fA0cK5uE8hG2iOq9zR3tM', name: 'get_time' },
    ]);
    const { text, calls } = reassemble(events);
    assert.equal(text, '', 'content: null is no text');
    assert.deepEqual(calls.map((c) => JSON.parse(c.arguments)), [JSON.parse(WEATHER_ARGS), JSON.parse(TIME_ARGS)]);
    assert.deepEqual(events.slice(-2), [
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', usage: { inputTokens: 214, outputTokens: 51, cachedInputTokens: 0 } },
    ]);
  }
});

test('chat-error.sse → the text before the error event, then GW_UPSTREAM_SERVER_ERROR with the provider message', async () => {
  for (const size of READ_SIZES) {
    const { events, error } = await decodeFixture(decodeStream, 'openai', 'chat-error', size);
    assert.equal(reassemble(events).text, 'The capital');
    assert.ok(!events.some((e) => e.type === 'finish' || e.type === 'usage'), 'never a clean end');
    assert.ok(error instanceof GatewayError, `read size ${size}: ${error}`);
    assert.equal(error.code, 'GW_UPSTREAM_SERVER_ERROR');
    assert.match(error.message, /The server had an error while processing your request/);
  }
});
