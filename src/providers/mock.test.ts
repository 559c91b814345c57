import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatRequest, ChatResult, EmbeddingsResult, StreamEvent } from '../core/canonical.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { MockProviderConfig } from '../config/schema.ts';
import { createMockProvider, MOCK_FAILURES } from './mock.ts';
import { acceptOpenAIEmbeddings } from '../surfaces/openai-embeddings.ts';
import { testContext } from '../../test/helpers/context.ts';

const target = { name: 'mock-chat', upstreamModel: 'mock-chat', providerId: 'mock', deploymentId: 'test', type: 'chat' as const };
const options = (over: Partial<MockProviderConfig> = {}): MockProviderConfig =>
  ({ kind: 'mock', latency_ms: 0, stream_tokens_per_second: 0, completion_tokens: 16, error_rates: {}, ...over });

function chatRequest(prompt: string, stream = false): ChatRequest {
  return {
    model: 'mock-chat', system: 'You are a test.', messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
    maxTokens: undefined, temperature: undefined, topP: undefined, stop: undefined, tools: undefined, toolChoice: undefined, stream, streamUsage: stream,
  };
}

function context(operation: 'chat' | 'embeddings', init: { chat?: ChatRequest; body?: Record<string, any> }): RequestContext {
  const ctx = testContext({ route: '/v1/x', operation, chat: init.chat, body: init.body, requestedModel: 'mock-embedding' });
  ctx.addAttempt(operation === 'chat' ? target : { ...target, type: 'embedding' });
  return ctx;
}

/** A provider's arguments: the context and its attempt, as dispatch hands them over. */
const withAttempt = (ctx: RequestContext) => [ctx, ctx.attempt!] as const;

async function chat(opts: MockProviderConfig, prompt: string, random?: () => number): Promise<ChatResult> {
  const output = await createMockProvider('mock', opts, random).chat(...withAttempt(context('chat', { chat: chatRequest(prompt) })));
  assert.equal(output.kind, 'result');
  return (output as { kind: 'result'; result: ChatResult }).result;
}

const textOf = (r: ChatResult) => r.content.map((p) => (p.type === 'text' ? p.text : '')).join('');

test('the same request gets the same text and usage (ids are the surface\'s to mint)', async () => {
  const a = await chat(options(), 'What is Vigil?');
  const b = await chat(options(), 'What is Vigil?');
  assert.deepEqual(a, b);
  assert.equal(a.finishReason, 'stop');
  assert.equal(a.model, 'mock-chat');
  assert.equal(a.id, undefined);
  // system "You are a test." = 15 chars → 4 tokens; prompt "What is Vigil?" = 14 chars → 4 tokens
  assert.deepEqual(a.usage, { inputTokens: 8, outputTokens: 16, cachedInputTokens: 0 });
});

test('different prompts get different text', async () => {
  const texts = new Set<string>();
  for (const prompt of ['alpha', 'beta', 'gamma', 'delta', 'epsilon']) texts.add(textOf(await chat(options(), prompt)));
  assert.ok(texts.size >= 4, `expected mostly distinct replies, got ${texts.size}`);
});

test('completion_tokens sets the reply length in words and the output usage', async () => {
  for (const n of [1, 3, 40]) {
    const result = await chat(options({ completion_tokens: n }), 'count me');
    assert.equal(textOf(result).split(' ').length, n);
    assert.equal(result.usage.outputTokens, n);
  }
});

test('prompt_tokens fixes the input usage of chat (JSON and stream) and embeddings; unset, it is estimated from the text', async () => {
  for (const prompt of ['short', 'a much longer prompt than the fixed count would suggest, repeated: '.repeat(20)]) {
    const fixed = await chat(options({ prompt_tokens: 1234 }), prompt);
    assert.deepEqual(fixed.usage, { inputTokens: 1234, outputTokens: 16, cachedInputTokens: 0 });
    assert.equal(textOf(fixed), textOf(await chat(options(), prompt)), 'the reply text does not depend on prompt_tokens');
  }
  // Unset: system "You are a test." (15 chars → 4) + "short" (5 chars → 2).
  assert.equal((await chat(options(), 'short')).usage.inputTokens, 6);

  const provider = createMockProvider('mock', options({ prompt_tokens: 77, completion_tokens: 3 }));
  const output = await provider.chat(...withAttempt(context('chat', { chat: chatRequest('stream me', true) })));
  const usages: StreamEvent[] = [];
  if (output.kind === 'events') for await (const e of output.events) if (e.type === 'usage') usages.push(e);
  assert.deepEqual(usages, [{ type: 'usage', usage: { inputTokens: 77, outputTokens: 3, cachedInputTokens: 0 } }]);

  const ctx = context('embeddings', { body: { input: ['hello world', 'another text'] } });
  const embedded = await createMockProvider('mock', options({ prompt_tokens: 9 })).embeddings(ctx, ctx.attempt!);
  assert.equal(embedded.kind === 'result' && embedded.result.usage.inputTokens, 9);
  assert.equal(ctx.attempt!.usage.inputTokens, 9);
});

test('error injection: rate 1 fails with the class code, rate 0 never fails', async () => {
  for (const [errorClass, failure] of Object.entries(MOCK_FAILURES)) {
    const ctx = context('chat', { chat: chatRequest('x') });
    const provider = createMockProvider('mock', options({ error_rates: { [errorClass]: 1 } }), () => 0.999);
    await assert.rejects(provider.chat(ctx, ctx.attempt!), (err: GatewayError) => {
      assert.equal(err.code, failure.code, errorClass);
      assert.equal(err.detail, 'injected by the mock provider');
      return true;
    });
    assert.equal(ctx.attempt!.status, failure.status);
    assert.equal(ctx.attempt!.error?.code, failure.code);
  }
  const limited = createMockProvider('mock', options({ error_rates: { rate_limit: 1 } }), () => 0);
  await assert.rejects(limited.chat(...withAttempt(context('chat', { chat: chatRequest('x') }))), (err: GatewayError) => err.retryAfter === 1);

  let draws = 0;
  const never = createMockProvider('mock', options({ error_rates: { server_error: 0 } }), () => { draws++; return 0; });
  for (let i = 0; i < 20; i++) await never.chat(...withAttempt(context('chat', { chat: chatRequest(`p${i}`) })));
  assert.equal(draws, 0);
});

test('error injection compares random() with the rate', async () => {
  const provider = (r: number) => createMockProvider('mock', options({ error_rates: { timeout: 0.3 } }), () => r);
  await assert.rejects(provider(0.29).chat(...withAttempt(context('chat', { chat: chatRequest('x') }))), (err: GatewayError) => err.code === 'GW_UPSTREAM_TIMEOUT');
  const ctx = context('chat', { chat: chatRequest('x') });
  await provider(0.3).chat(ctx, ctx.attempt!);
  assert.equal(ctx.attempt!.status, 200);
});

test('streaming yields start, one text per word, finish and usage; text equals the non-streamed reply', async () => {
  const provider = createMockProvider('mock', options({ completion_tokens: 5 }));
  const output = await provider.chat(...withAttempt(context('chat', { chat: chatRequest('stream me', true) })));
  assert.equal(output.kind, 'events');
  const events: StreamEvent[] = [];
  if (output.kind === 'events') for await (const e of output.events) events.push(e);
  assert.deepEqual(events.map((e) => e.type), ['start', 'text', 'text', 'text', 'text', 'text', 'finish', 'usage']);
  const whole = await chat(options({ completion_tokens: 5 }), 'stream me');
  assert.equal(events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join(''), textOf(whole));
  assert.deepEqual(events[0], { type: 'start', model: 'mock-chat', usage: { ...whole.usage, outputTokens: 0 } }, 'input usage known at the start');
  assert.deepEqual(events[6], { type: 'finish', reason: 'stop' });
  assert.deepEqual(events[7], { type: 'usage', usage: whole.usage });
});

test('streaming pace: stream_tokens_per_second spaces the words', async () => {
  const provider = createMockProvider('mock', options({ completion_tokens: 4, stream_tokens_per_second: 200 }));
  const output = await provider.chat(...withAttempt(context('chat', { chat: chatRequest('slow', true) })));
  const started = performance.now();
  let n = 0;
  if (output.kind === 'events') for await (const e of output.events) if (e.type === 'text') n++;
  assert.equal(n, 4);
  assert.ok(performance.now() - started >= 15, 'four words at 200/s take at least ~20 ms');
});

async function embed(body: Record<string, any>): Promise<EmbeddingsResult> {
  const ctx = context('embeddings', { body });
  const output = await createMockProvider('mock', options()).embeddings(ctx, ctx.attempt!);
  assert.equal(output.kind, 'result');
  return (output as { kind: 'result'; result: EmbeddingsResult }).result;
}

const decodeBase64 = (s: string) => {
  const buf = Buffer.from(s, 'base64');
  return Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
};

test('embeddings: deterministic unit vectors of the default 16 dimensions, usage counted', async () => {
  const a = await embed({ input: ['hello world', 'another text'] });
  const b = await embed({ input: ['hello world', 'another text'] });
  assert.deepEqual(a, b);
  const vectors = a.vectors as number[][];
  assert.equal(vectors.length, 2);
  for (const v of vectors) {
    assert.equal(v.length, 16);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-9);
  }
  assert.notDeepEqual(vectors[0], vectors[1]);
  assert.equal(a.model, 'mock-embedding');
  assert.deepEqual(a.usage, { inputTokens: 3 + 3, outputTokens: 0, cachedInputTokens: 0 });
  assert.equal((await embed({ input: 'single' })).vectors.length, 1);
});

test('embeddings: requested dimensions, and base64 decodes to the float vector', async () => {
  const floats = (await embed({ input: ['abc'], dimensions: 64 })).vectors as number[][];
  assert.equal(floats[0].length, 64);
  assert.ok(Math.abs(Math.hypot(...floats[0]) - 1) < 1e-9);
  const encoded = (await embed({ input: ['abc'], dimensions: 64, encoding_format: 'base64' })).vectors as string[];
  assert.equal(typeof encoded[0], 'string');
  const decoded = decodeBase64(encoded[0]);
  assert.equal(decoded.length, 64);
  for (const [i, x] of decoded.entries()) assert.ok(Math.abs(x - floats[0][i]) < 1e-6, `component ${i}`);
});

test('embeddings: out-of-range dimensions are a 400 request error at accept, before any provider allocates', () => {
  // dimensions comes straight from the client body; a huge value must never reach the mock (1e9 would
  // exhaust the heap), and 0 / negative / fractional are not valid sizes.
  for (const dimensions of [200_000, 0, -1, 1.5]) {
    const ctx = context('embeddings', { body: { model: 'mock-embedding', input: ['abc'], dimensions } });
    assert.throws(() => acceptOpenAIEmbeddings(ctx), (err: unknown) => {
      assert.ok(err instanceof GatewayError, `dimensions ${dimensions}: got ${err}`);
      assert.equal(err.code, 'GW_REQUEST_INVALID', `dimensions ${dimensions}`);
      assert.equal(err.param, 'dimensions');
      return true;
    });
  }
});

test('embeddings: the largest accepted size is produced without exhausting the stack', async () => {
  const [vector] = (await embed({ input: ['abc'], dimensions: 16_384 })).vectors as number[][];
  assert.equal(vector.length, 16_384);
  const length = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  assert.ok(Math.abs(length - 1) < 1e-9, `unit length, got ${length}`);
});

test('offered tools, the mock calls the first (or the chosen) tool with input from the last user text; after a tool result it answers', async () => {
  const provider = createMockProvider('mock', options());
  const weather = { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', maximum: 3 } }, required: ['city', 'days'] };
  const tools = [{ name: 'search', parameters: { type: 'object' } }, { name: 'weather', parameters: weather }];
  const ask = async (request: ChatRequest) => {
    const output = await provider.chat(...withAttempt(context('chat', { chat: request })));
    return (output as { kind: 'result'; result: ChatResult }).result;
  };

  const first = await ask({ ...chatRequest('rain in Oslo?'), tools });
  assert.equal(first.finishReason, 'tool_calls');
  const [call] = first.content;
  assert.equal(call.type, 'tool_use');
  assert.equal(call.type === 'tool_use' && call.name, 'search');
  assert.deepEqual(call.type === 'tool_use' && JSON.parse(call.arguments), { input: 'rain in Oslo?' });

  const chosen = await ask({ ...chatRequest('rain in Oslo?'), tools, toolChoice: { name: 'weather' } });
  assert.equal(chosen.content[0].type === 'tool_use' && chosen.content[0].name, 'weather');
  assert.deepEqual(chosen.content[0].type === 'tool_use' && JSON.parse(chosen.content[0].arguments), { city: 'rain in Oslo?', days: 2 }, 'the chosen tool\'s schema');
  assert.equal((await ask({ ...chatRequest('x'), tools, toolChoice: 'none' })).finishReason, 'stop');

  const answered = await ask({
    ...chatRequest('rain in Oslo?'), tools,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'rain in Oslo?' }] },
      { role: 'assistant', content: [call] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: call.type === 'tool_use' ? call.id : '', content: 'light rain' }] },
    ],
  });
  assert.equal(answered.finishReason, 'stop');
  assert.equal(answered.content[0].type, 'text');
});

test('the mock ends its upstream part when its answer is ready: encoding and writing are the gateway\'s time', async () => {
  const mock = createMockProvider('mock', options());
  const plain = context('chat', { chat: chatRequest('timing') });
  await mock.chat(plain, plain.attempt!);
  assert.ok(plain.attempt!.startedAt >= 0 && plain.attempt!.endedAt >= plain.attempt!.startedAt, 'a whole answer is over when chat() returns');

  const streamed = context('chat', { chat: chatRequest('timing', true) });
  const output = await mock.chat(streamed, streamed.attempt!);
  assert.equal(output.kind, 'events');
  const events = (output as { kind: 'events'; events: AsyncIterable<StreamEvent> }).events;
  const endedAtEach: number[] = [];
  for await (const event of events) endedAtEach.push(event.type === 'usage' ? streamed.attempt!.endedAt : -1);
  assert.ok(streamed.attempt!.endedAt >= streamed.attempt!.startedAt, 'a stream is over after its last event');
  assert.ok(endedAtEach.at(-1)! >= 0, 'and by the time its usage is read');
});
