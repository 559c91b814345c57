// The Anthropic decoders against recorded Messages answers (fixtures/anthropic): JSON and the SSE sequence
// message_start … message_stop with a ping, a text block and a tool_use block streamed as
// input_json_delta, usage in message_start and message_delta with the cache fields, and an error event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/core/errors.ts';
import { decodeResult, decodeStream } from '../../../src/providers/anthropic.ts';
import { READ_SIZES, decodeFixture, fixtureJson, reassemble } from './decode.ts';

const MODEL = 'claude-sonnet-4-20250514';
const TOOL_ID = 'toolu_01T1x1fJ34qAmk2tNTrN7Up6';
const WEATHER_INPUT = { location: 'Oslo, Norway', unit: 'celsius' };
/**
 * Anthropic counts cache reads and writes beside input_tokens; the canonical input is all three
 * (42 + 1,800 read + 256 written), of which the reads are the cached part.
 */
const USAGE = { inputTokens: 42 + 1800 + 256, outputTokens: 71, cachedInputTokens: 1800, cacheWriteTokens: 256 };

test('messages-tool-use.json → a text part and a tool_use part with its input as JSON, tool_calls, usage with the cache', () => {
  const result = decodeResult(fixtureJson('anthropic', 'messages-tool-use'));
  assert.deepEqual({ ...result, content: result.content.map((p) => (p.type === 'tool_use' ? { ...p, arguments: JSON.parse(p.arguments) } : p)) }, {
    id: 'msg_01Aq9w938a90dw8q5Tj2xYzR', model: MODEL,
    content: [
      { type: 'text', text: "I'll check the current weather in Oslo for you." },
      { type: 'tool_use', id: TOOL_ID, name: 'get_weather', arguments: WEATHER_INPUT },
    ],
    finishReason: 'tool_calls',
    usage: USAGE,
  });
});

test('messages-tool-use.sse → start, text, the tool call and its input_json_delta pieces, finish, usage; pings skipped; at every read size', async () => {
  for (const size of READ_SIZES) {
    const { events, error } = await decodeFixture(decodeStream, 'anthropic', 'messages-tool-use', size);
    assert.equal(error, undefined, `read size ${size}`);
    assert.deepEqual(events[0], { type: 'start', id: 'msg_01Bv7yKq3nR8tLm2Wc5xZpHd', model: MODEL });
    assert.deepEqual(events.filter((e) => e.type === 'tool_call'), [{ type: 'tool_call', index: 0, id: TOOL_ID, name: 'get_weather' }]);
    const { text, calls } = reassemble(events);
    assert.equal(text, "I'll check the current weather in Oslo for you.");
    assert.deepEqual(JSON.parse(calls[0].arguments), WEATHER_INPUT);
    // message_start's usage (output 2 so far) is replaced by message_delta's running totals.
    assert.deepEqual(events.slice(-2), [{ type: 'finish', reason: 'tool_calls' }, { type: 'usage', usage: USAGE }]);
  }
});

test('messages-error.sse → the text before the error event, then GW_UPSTREAM_SERVER_ERROR naming the provider message', async () => {
  for (const size of READ_SIZES) {
    const { events, error } = await decodeFixture(decodeStream, 'anthropic', 'messages-error', size);
    assert.equal(reassemble(events).text, "I'll check");
    assert.ok(!events.some((e) => e.type === 'finish' || e.type === 'usage'), 'never a clean end');
    assert.ok(error instanceof GatewayError, `read size ${size}: ${error}`);
    assert.equal(error.code, 'GW_UPSTREAM_SERVER_ERROR');
    assert.match(error.message, /Overloaded/);
  }
});
