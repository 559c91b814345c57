import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamEvent } from '../core/canonical.ts';
import type { GatewayError } from '../core/errors.ts';
import { createAnthropicProvider, decodeResult, decodeStream, encodeRequest } from './anthropic.ts';
import { testContext } from '../../test/helpers/context.ts';
import { inPieces, relayed } from '../../test/helpers/sse.ts';

async function collect(chunks: AsyncIterable<Buffer>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of decodeStream(chunks)) out.push(event);
  return out;
}

const ev = (type: string, payload: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;

/** What api.anthropic.com sends for thinking + text + tool use, with a ping and prompt caching. */
const RECORDED = [
  ev('message_start', {
    message: {
      id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: 25, cache_creation_input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 1 },
    },
  }),
  ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
  ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
  ev('content_block_stop', { index: 0 }),
  'event: ping\ndata: {"type": "ping"}\n\n',
  ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
  ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Checking 🌤' } }),
  ev('content_block_stop', { index: 1 }),
  ev('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_01', name: 'weather', input: {} } }),
  ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": ' } }),
  ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } }),
  ev('content_block_stop', { index: 2 }),
  ev('content_block_start', { index: 3, content_block: { type: 'tool_use', id: 'toolu_02', name: 'time', input: {} } }),
  ev('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '{}' } }),
  ev('content_block_stop', { index: 3 }),
  ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 42 } }),
  ev('message_stop', {}),
].join('');

const EXPECTED: StreamEvent[] = [
  { type: 'start', id: 'msg_01', model: 'claude-sonnet-4-5-20250929' },
  { type: 'text', text: 'Checking 🌤' },
  { type: 'tool_call', index: 0, id: 'toolu_01', name: 'weather' },
  { type: 'tool_args', index: 0, delta: '{"city": ' },
  { type: 'tool_args', index: 0, delta: '"Oslo"}' },
  { type: 'tool_call', index: 1, id: 'toolu_02', name: 'time' },
  { type: 'tool_args', index: 1, delta: '{}' },
  { type: 'finish', reason: 'tool_calls' },
  { type: 'usage', usage: { inputTokens: 130, outputTokens: 42, cachedInputTokens: 100, cacheWriteTokens: 5 } },
];

test('decodeStream: recorded Anthropic SSE → canonical events (thinking and ping skipped), in any chunking', async () => {
  assert.deepEqual(await collect(inPieces(RECORDED, 1 << 20)), EXPECTED);
  for (const size of [1, 5, 100]) assert.deepEqual(await collect(inPieces(RECORDED, size)), EXPECTED, `chunks of ${size} bytes`);
});

test('decodeStream: stop reasons map to canonical finish reasons', async () => {
  const reasons: [string, string][] = [['end_turn', 'stop'], ['max_tokens', 'length'], ['stop_sequence', 'stop'], ['refusal', 'content_filter']];
  for (const [anthropic, canonical] of reasons) {
    const events = await collect(inPieces(
      ev('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 3, output_tokens: 1 } } })
      + ev('message_delta', { delta: { stop_reason: anthropic }, usage: { output_tokens: 2 } }) + ev('message_stop', {}), 64));
    assert.deepEqual(events.slice(1), [
      { type: 'finish', reason: canonical },
      { type: 'usage', usage: { inputTokens: 3, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0 } },
    ], anthropic);
  }
});

test('decodeStream: an in-stream error event becomes GW_UPSTREAM_SERVER_ERROR with its message', async () => {
  const wire = ev('message_start', { message: { id: 'm', model: 'c', usage: {} } })
    + ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
  await assert.rejects(collect(inPieces(wire, 16)), (err: GatewayError) => err.code === 'GW_UPSTREAM_SERVER_ERROR' && err.detail === 'Overloaded');
});

test('decodeResult: text + tool_use, stop reason, usage with cache reads and writes', () => {
  const result = decodeResult({
    id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5',
    content: [
      { type: 'thinking', thinking: 'x', signature: 's' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
    ],
    stop_reason: 'tool_use', stop_sequence: null,
    usage: { input_tokens: 10, cache_creation_input_tokens: 20, cache_read_input_tokens: 300, output_tokens: 50 },
  });
  assert.deepEqual(result, {
    id: 'msg_1', model: 'claude-haiku-4-5',
    content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_1', name: 'weather', arguments: '{"city":"Oslo"}' }],
    finishReason: 'tool_calls',
    usage: { inputTokens: 330, outputTokens: 50, cachedInputTokens: 300, cacheWriteTokens: 20 },
  });
  assert.equal(decodeResult({ content: [], stop_reason: 'max_tokens' }).finishReason, 'length');
  assert.equal(decodeResult({ content: [], stop_reason: 'end_turn' }).finishReason, 'stop');
  assert.throws(() => decodeResult({ type: 'error' }), (err: GatewayError) => err.code === 'GW_UPSTREAM_PROTOCOL');
});

test('encodeRequest: data-URL images become base64 sources, others url sources; bad tool JSON is a request error', () => {
  const body = encodeRequest({
    model: 'x', system: undefined, maxTokens: 10, temperature: undefined, topP: undefined, stop: undefined, tools: undefined, toolChoice: undefined,
    stream: true, streamUsage: true,
    messages: [{ role: 'user', content: [{ type: 'image', url: 'data:image/png;base64,AAA' }, { type: 'image', url: 'https://x/y.png' }] }],
  }, 'claude');
  assert.deepEqual((body.messages as any[])[0].content, [
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } },
    { type: 'image', source: { type: 'url', url: 'https://x/y.png' } },
  ]);
  assert.equal(body.stream, true);
  assert.equal(body.system, undefined);
  assert.throws(() => encodeRequest({
    model: 'x', system: undefined, maxTokens: undefined, temperature: undefined, topP: undefined, stop: undefined, tools: undefined, toolChoice: undefined,
    stream: false, streamUsage: false, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', arguments: '{oops' }] }],
  }, 'claude'), (err: GatewayError) => err.code === 'GW_REQUEST_INVALID');
});

/** The passthrough relay's output for an upstream wire, or the error that ended it. */
async function relay(wire: string): Promise<{ out: string; error?: GatewayError }> {
  const provider = createAnthropicProvider({
    id: 'anthropic', apiKey: 'sk-ant', headers: {}, unavailableReason: undefined,
    send: async () => ({ status: 200, headers: {}, chunks: inPieces(wire, 11), bytes: async () => Buffer.alloc(0), text: async () => '' }),
  });
  const ctx = testContext({
    route: '/v1/messages', dialect: 'anthropic', body: { model: 'c', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }], stream: true }, stream: true,
  });
  const output = await provider.chat(ctx, ctx.addAttempt({ name: 'c', upstreamModel: 'claude', providerId: 'anthropic', deploymentId: 'test', type: 'chat' }));
  return relayed(output);
}

test('stream completion: only message_stop completes an Anthropic stream; an earlier end is a protocol error', async () => {
  assert.equal((await relay(RECORDED)).error, undefined);
  const cut = RECORDED.slice(0, RECORDED.indexOf('event: message_delta'));
  for (const truncated of [cut, RECORDED.slice(0, RECORDED.indexOf('event: message_stop')), '']) {
    const { out, error } = await relay(truncated);
    assert.equal(error?.code, 'GW_UPSTREAM_PROTOCOL');
    assert.equal(out, truncated, 'what came before the cut was relayed');
    await assert.rejects(collect(inPieces(truncated, 9)), (err: GatewayError) => err.code === 'GW_UPSTREAM_PROTOCOL');
  }
});

test('stream completion: a passthrough error event is a server error, not relayed as if the answer went on', async () => {
  const wire = RECORDED.slice(0, RECORDED.indexOf('event: message_delta')) + ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
  const { out, error } = await relay(wire);
  assert.equal(error?.code, 'GW_UPSTREAM_SERVER_ERROR');
  assert.equal(error?.detail, 'Overloaded');
  assert.ok(!out.includes('event: error'), 'the gateway writes its own error event, in its own shape');
});
