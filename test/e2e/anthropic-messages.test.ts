// Anthropic Messages through the gateway with the official `@anthropic-ai/sdk`: a model on the anthropic
// provider (the fake), JSON and streaming, usage, what goes upstream, request ids; and the mock provider,
// JSON and streaming.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type Anthropic from '@anthropic-ai/sdk';
import { FAKE_TEXT } from '../helpers/fake-upstream.ts';
import { CLIENT_KEY, UPSTREAM_ANTHROPIC_KEY, claude, startStack, userMessage, type Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const textOf = (message: Anthropic.Message) =>
  message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');

test('messages.create: upstream reply, usage and stop reason in Anthropic shape', async () => {
  const message = await stack.anthropic.messages.create({
    model: claude('ok'), max_tokens: 64, system: 'Be brief.', messages: userMessage('Say hello'),
  });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.equal(textOf(message), FAKE_TEXT);
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.input_tokens, 12);
  assert.equal(message.usage.output_tokens, 5);
});

test('messages.create: upstream receives upstream_model, the body, the provider key and anthropic-version', async () => {
  await stack.anthropic.messages.create({ model: claude('ok'), max_tokens: 77, system: 'sys text', messages: userMessage('what was sent') });
  const sent = stack.fake.requests.find((r) => r.path === '/v1/messages' && r.body?.max_tokens === 77);
  assert.ok(sent, 'the gateway called POST /v1/messages upstream');
  assert.equal(sent.body.model, 'ok');
  const system = typeof sent.body.system === 'string' ? sent.body.system : sent.body.system?.map((b: any) => b.text).join('');
  assert.equal(system, 'sys text');
  const first = sent.body.messages[0];
  const content = typeof first.content === 'string' ? first.content : first.content.map((b: any) => b.text).join('');
  assert.deepEqual([first.role, content], ['user', 'what was sent']);
  assert.equal(sent.headers['x-api-key'], UPSTREAM_ANTHROPIC_KEY);
  assert.ok(sent.headers['anthropic-version'], 'anthropic-version header is sent upstream');
  assert.ok(!JSON.stringify(sent.headers).includes(CLIENT_KEY), "the client's x-api-key does not reach upstream");
});

test('messages.stream: several text deltas and a final message with usage', async () => {
  const deltas: string[] = [];
  const stream = stack.anthropic.messages.stream({ model: claude('ok'), max_tokens: 64, messages: userMessage('Stream please') });
  stream.on('text', (text) => deltas.push(text));
  const message = await stream.finalMessage();
  assert.ok(deltas.length >= 2, `expected several text deltas, got ${deltas.length}`);
  assert.equal(deltas.join(''), FAKE_TEXT);
  assert.equal(textOf(message), FAKE_TEXT);
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.input_tokens, 12);
  assert.equal(message.usage.output_tokens, 5);
  const sent = stack.fake.requests.find((r) => r.path === '/v1/messages' && r.body?.stream === true);
  assert.ok(sent, 'the gateway streamed from upstream');
});

test('messages.create with stream: true yields the Anthropic event sequence', async () => {
  const stream = await stack.anthropic.messages.create({ model: claude('ok'), max_tokens: 64, messages: userMessage('raw events'), stream: true });
  const types: string[] = [];
  for await (const event of stream) types.push(event.type);
  assert.equal(types[0], 'message_start');
  assert.ok(types.includes('content_block_start'));
  assert.ok(types.filter((t) => t === 'content_block_delta').length >= 2);
  assert.ok(types.includes('content_block_stop'));
  assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop']);
});

test('mock provider over /v1/messages: deterministic text and positive usage', async () => {
  const ask = () => stack.anthropic.messages.create({ model: 'mock-chat', max_tokens: 64, messages: userMessage('Hello mock') });
  const first = await ask();
  const second = await ask();
  assert.ok(textOf(first).length > 0);
  assert.equal(textOf(second), textOf(first));
  assert.ok(first.usage.input_tokens > 0);
  assert.ok(first.usage.output_tokens > 0);
});

test('mock provider over /v1/messages, streaming: the Anthropic event sequence, the whole text and the usage', async () => {
  // The stack's mock has the default completion_tokens (16); input tokens are estimated at ~4 characters a
  // token: "Stream from the mock" is 20 characters → 5.
  const prompt = 'Stream from the mock';
  const whole = await stack.anthropic.messages.create({ model: 'mock-chat', max_tokens: 64, messages: userMessage(prompt) });
  assert.equal(textOf(whole).split(' ').length, 16);

  const raw = await stack.anthropic.messages.create({ model: 'mock-chat', max_tokens: 64, messages: userMessage(prompt), stream: true });
  const events: Anthropic.RawMessageStreamEvent[] = [];
  for await (const event of raw) events.push(event);
  assert.deepEqual(events.map((e) => e.type), [
    'message_start', 'content_block_start', ...Array(16).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop',
  ]);
  const start = events[0] as Anthropic.RawMessageStartEvent;
  assert.equal(start.message.model, 'mock-chat');
  assert.equal(start.message.role, 'assistant');
  assert.match(start.message.id, /^msg_/);
  assert.notEqual(start.message.id, whole.id, 'every answer has its own id');
  assert.equal(start.message.usage.input_tokens, 5, 'input usage as the stream starts');
  assert.deepEqual((events[1] as Anthropic.RawContentBlockStartEvent).content_block, { type: 'text', text: '' });
  const deltas = events.filter((e): e is Anthropic.RawContentBlockDeltaEvent => e.type === 'content_block_delta');
  assert.ok(deltas.every((d) => d.index === 0 && d.delta.type === 'text_delta'));
  assert.equal(deltas.map((d) => (d.delta.type === 'text_delta' ? d.delta.text : '')).join(''), textOf(whole), 'the streamed text is the JSON reply');
  const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
  assert.equal(delta.delta.stop_reason, 'end_turn');
  assert.equal(delta.usage.output_tokens, 16);
  assert.equal(delta.usage.input_tokens, 5);
  assert.deepEqual([whole.usage.input_tokens, whole.usage.output_tokens], [5, 16]);

  // messages.stream: the text events and the final message the SDK assembles.
  const texts: string[] = [];
  const stream = stack.anthropic.messages.stream({ model: 'mock-chat', max_tokens: 64, messages: userMessage(prompt) });
  stream.on('text', (text) => texts.push(text));
  const message = await stream.finalMessage();
  assert.equal(texts.length, 16);
  assert.equal(texts.join(''), textOf(whole));
  assert.equal(textOf(message), textOf(whole));
  assert.equal(message.stop_reason, 'end_turn');
  assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [5, 16]);
});

test('x-request-id from the client is echoed back on /v1/messages; a generated one otherwise', async () => {
  const given = 'e2e-anthropic-request-id';
  const echoed = await stack.anthropic.messages
    .create({ model: claude('ok'), max_tokens: 16, messages: userMessage('id') }, { headers: { 'x-request-id': given } })
    .withResponse();
  assert.equal(echoed.response.headers.get('x-request-id'), given);
  const generated = await stack.anthropic.messages.create({ model: claude('ok'), max_tokens: 16, messages: userMessage('id') }).withResponse();
  const id = generated.response.headers.get('x-request-id');
  assert.ok(id && id.length >= 8, `generated x-request-id: ${id}`);
  assert.notEqual(id, given);
});
