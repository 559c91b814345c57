import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamEvent } from '../core/canonical.ts';
import type { GatewayError } from '../core/errors.ts';
import { createOpenAIProvider, decodeResult, decodeStream } from './openai.ts';
import type { HttpCall } from './provider.ts';
import { testContext } from '../../test/helpers/context.ts';
import { inPieces, relayed } from '../../test/helpers/sse.ts';

async function collect(chunks: AsyncIterable<Buffer>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of decodeStream(chunks)) out.push(event);
  return out;
}

const base = { id: 'chatcmpl-AB', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', system_fingerprint: 'fp_1' };
const chunk = (choice: object | null, usage: object | null = null) =>
  `data: ${JSON.stringify({ ...base, choices: choice ? [{ index: 0, logprobs: null, finish_reason: null, ...choice }] : [], usage })}\n\n`;
const DONE = 'data: [DONE]\n\n';

/** What api.openai.com sends for a text + tool call answer with stream_options.include_usage. */
const RECORDED = [
  chunk({ delta: { role: 'assistant', content: '', refusal: null } }),
  chunk({ delta: { content: 'Hé' } }),
  chunk({ delta: { content: 'llo' } }),
  chunk({ delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '' } }] } }),
  chunk({ delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] } }),
  chunk({ delta: { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] } }),
  chunk({ delta: {}, finish_reason: 'tool_calls' }),
  chunk(null, { prompt_tokens: 120, completion_tokens: 15, total_tokens: 135, prompt_tokens_details: { cached_tokens: 64 } }),
  DONE,
].join('');

const EXPECTED: StreamEvent[] = [
  { type: 'start', id: 'chatcmpl-AB', model: 'gpt-4o-2024-08-06' },
  { type: 'text', text: 'Hé' },
  { type: 'text', text: 'llo' },
  { type: 'tool_call', index: 0, id: 'call_1', name: 'weather' },
  { type: 'tool_args', index: 0, delta: '{"city":' },
  { type: 'tool_args', index: 0, delta: '"Oslo"}' },
  { type: 'finish', reason: 'tool_calls' },
  { type: 'usage', usage: { inputTokens: 120, outputTokens: 15, cachedInputTokens: 64 } },
];

test('decodeStream: recorded OpenAI SSE → canonical events, in any chunking', async () => {
  assert.deepEqual(await collect(inPieces(RECORDED, 1 << 20)), EXPECTED);
  for (const size of [1, 7, 64]) assert.deepEqual(await collect(inPieces(RECORDED, size)), EXPECTED, `chunks of ${size} bytes`);
});

test('decodeStream: finish reasons map, and a non-JSON chunk is a protocol error', async () => {
  const stop = await collect(inPieces(chunk({ delta: { content: 'x' } }) + chunk({ delta: {}, finish_reason: 'length' }) + DONE, 9));
  assert.deepEqual(stop.at(-1), { type: 'finish', reason: 'length' });
  const filtered = await collect(inPieces(chunk({ delta: {}, finish_reason: 'content_filter' }), 100));
  assert.deepEqual(filtered.at(-1), { type: 'finish', reason: 'content_filter' });
  await assert.rejects(collect(inPieces('data: {not json\n\n', 100)), (err: GatewayError) => err.code === 'GW_UPSTREAM_PROTOCOL');
});

test('decodeResult: text answer with usage incl. cached tokens', () => {
  const result = decodeResult({
    id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306, prompt_tokens_details: { cached_tokens: 1920 } },
  });
  assert.deepEqual(result, {
    id: 'chatcmpl-1', model: 'gpt-4o-mini', content: [{ type: 'text', text: 'Hello!' }], finishReason: 'stop',
    usage: { inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920 },
  });
});

test('decodeResult: tool calls, length, missing usage, and no choices', () => {
  const tools = decodeResult({
    id: 'c', model: 'm',
    choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'tool_calls' }],
  });
  assert.deepEqual(tools.content, [{ type: 'tool_use', id: 'call_1', name: 'f', arguments: '{"a":1}' }]);
  assert.equal(tools.finishReason, 'tool_calls');
  assert.deepEqual(tools.usage, { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 });
  assert.equal(decodeResult({ choices: [{ message: { content: 'x' }, finish_reason: 'length' }] }).finishReason, 'length');
  assert.equal(decodeResult({ choices: [{ message: { content: 'x' }, finish_reason: 'function_call' }] }).finishReason, 'tool_calls');
  assert.throws(() => decodeResult({ choices: [] }), (err: GatewayError) => err.code === 'GW_UPSTREAM_PROTOCOL');
});

function context(body: Record<string, any>) {
  const ctx = testContext({ body, stream: body.stream === true });
  ctx.streamUsage = body.stream_options?.include_usage === true;
  return ctx;
}

test('passthrough stream: upstream is asked for usage, the client only sees it when it asked', async () => {
  const calls: HttpCall[] = [];
  const provider = createOpenAIProvider({
    id: 'openai', kind: 'openai', apiKey: 'sk-up', headers: { 'x-extra': '1' }, unavailableReason: undefined,
    send: async (_ctx, _attempt, call) => {
      calls.push(call);
      return { status: 200, headers: {}, chunks: inPieces(RECORDED, 13), bytes: async () => Buffer.alloc(0), text: async () => '' };
    },
  });
  const target = { name: 'fast', upstreamModel: 'gpt-4o-2024-08-06', providerId: 'openai', deploymentId: 'test', type: 'chat' as const };
  for (const includeUsage of [false, true]) {
    const ctx = context({ model: 'fast', messages: [{ role: 'user', content: 'hi' }], stream: true, user: 'u1', ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
    const attempt = ctx.addAttempt(target);
    const output = await provider.chat(ctx, attempt);
    assert.equal(output.kind, 'sse');
    let wire = '';
    if (output.kind === 'sse') for await (const s of output.chunks) wire += s;
    assert.equal(wire.includes('"prompt_tokens":120'), includeUsage);
    assert.ok(wire.endsWith('data: [DONE]\n\n'));
    assert.deepEqual(attempt.usage, { inputTokens: 120, outputTokens: 15, cachedInputTokens: 64 });
    assert.equal(ctx.finishReason, 'tool_calls');
    assert.ok(attempt.firstTokenAt >= 0);
  }
  const sent = JSON.parse(String(calls[0].body));
  assert.equal(sent.model, 'gpt-4o-2024-08-06');
  assert.equal(sent.user, 'u1');
  assert.deepEqual(sent.stream_options, { include_usage: true });
  assert.equal(calls[0].path, '/chat/completions');
  assert.deepEqual(calls[0].headers, ['content-type', 'application/json', 'x-extra', '1', 'authorization', 'Bearer sk-up']);
});

/** The passthrough relay's output for an upstream wire, or the error that ended it. */
async function relay(wire: string): Promise<{ out: string; error?: GatewayError }> {
  const provider = createOpenAIProvider({
    id: 'openai', kind: 'openai', apiKey: 'sk-up', headers: {}, unavailableReason: undefined,
    send: async () => ({ status: 200, headers: {}, chunks: inPieces(wire, 11), bytes: async () => Buffer.alloc(0), text: async () => '' }),
  });
  const ctx = context({ model: 'fast', messages: [{ role: 'user', content: 'hi' }], stream: true });
  const output = await provider.chat(ctx, ctx.addAttempt({ name: 'fast', upstreamModel: 'gpt-4o', providerId: 'openai', deploymentId: 'test', type: 'chat' }));
  return relayed(output);
}

const TEXT = chunk({ delta: { content: 'Hel' } });
const FINISH = chunk({ delta: {}, finish_reason: 'stop' });
const ERROR_EVENT = `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error' } })}\n\n`;

test('stream completion: a finish reason or [DONE] completes an OpenAI stream; an earlier end is a protocol error', async () => {
  for (const complete of [TEXT + FINISH + DONE, TEXT + FINISH, TEXT + DONE]) {
    assert.equal((await relay(complete)).error, undefined, complete);
    await collect(inPieces(complete, 5));
  }
  for (const truncated of [TEXT, TEXT + TEXT, '', ': keep-alive\n\n']) {
    const { out, error } = await relay(truncated);
    assert.equal(error?.code, 'GW_UPSTREAM_PROTOCOL', `relay: ${JSON.stringify(truncated)}`);
    assert.match(error!.message, /ended before the answer was complete/);
    assert.equal(out, truncated.includes('data:') ? truncated : '', 'what came before the cut was relayed');
    await assert.rejects(collect(inPieces(truncated, 5)), (err: GatewayError) => err.code === 'GW_UPSTREAM_PROTOCOL', `decode: ${JSON.stringify(truncated)}`);
  }
});

test('stream completion: an in-stream error event is a server error, never relayed as it came', async () => {
  const { out, error } = await relay(TEXT + ERROR_EVENT);
  assert.equal(out, TEXT);
  assert.equal(error?.code, 'GW_UPSTREAM_SERVER_ERROR');
  assert.equal(error?.detail, 'The server had an error while processing your request.');
  await assert.rejects(collect(inPieces(TEXT + ERROR_EVENT + DONE, 7)), (err: GatewayError) => err.code === 'GW_UPSTREAM_SERVER_ERROR');
});
