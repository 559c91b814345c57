// Cross-format: the OpenAI SDK talking to a model on the anthropic provider, and the Anthropic SDK talking
// to a model on the openai-compatible provider. The gateway translates both ways, errors included.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { FAKE_RETRY_AFTER, FAKE_TEXT, type RecordedRequest } from '../helpers/fake-upstream.ts';
import {
  CLIENT_KEY, UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY, claude, oai, rejectsAs, startStack, userMessage, type Stack,
} from '../helpers/stack.ts';

let stack: Stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

/** Text of a message's content whether it is a string or a list of text blocks. */
const plain = (content: unknown): string =>
  typeof content === 'string' ? content : (content as { text?: string }[]).map((b) => b.text ?? '').join('');

const sentWith = (path: string, marker: string): RecordedRequest => {
  const found = stack.fake.requests.find((r) => r.path === path && JSON.stringify(r.body?.messages ?? []).includes(marker));
  assert.ok(found, `the gateway called ${path} upstream with "${marker}"`);
  return found;
};

test('OpenAI SDK → anthropic provider: chat completion translated from Messages', async () => {
  const completion = await stack.openai.chat.completions.create({
    model: claude('ok'),
    messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'x-fmt one' }],
    max_tokens: 50,
  });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].message.content, FAKE_TEXT);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.deepEqual(completion.usage && [completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens], [12, 5, 17]);

  const sent = sentWith('/v1/messages', 'x-fmt one');
  assert.equal(sent.body.model, 'ok');
  assert.equal(plain(sent.body.system), 'You are terse.');
  assert.deepEqual(sent.body.messages.map((m: any) => [m.role, plain(m.content)]), [['user', 'x-fmt one']]);
  assert.equal(sent.body.max_tokens, 50);
  assert.equal(sent.headers['x-api-key'], UPSTREAM_ANTHROPIC_KEY);
  assert.ok(sent.headers['anthropic-version']);
});

test('OpenAI SDK → anthropic provider without max_tokens: the gateway still sends the max_tokens Anthropic requires', async () => {
  await stack.openai.chat.completions.create({ model: claude('ok'), messages: userMessage('x-fmt no max') });
  const sent = sentWith('/v1/messages', 'x-fmt no max');
  assert.ok(Number.isInteger(sent.body.max_tokens) && sent.body.max_tokens > 0, `max_tokens ${sent.body.max_tokens}`);
});

test('OpenAI SDK → anthropic provider, streaming with include_usage: OpenAI chunks and a usage chunk', async () => {
  const stream = await stack.openai.chat.completions.create({
    model: claude('ok'), messages: userMessage('x-fmt stream'), stream: true, stream_options: { include_usage: true },
  });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), FAKE_TEXT);
  assert.deepEqual(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean), ['stop']);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage && [last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens], [12, 5, 17]);
  assert.equal(sentWith('/v1/messages', 'x-fmt stream').body.stream, true);
});

test('OpenAI SDK → anthropic provider, streaming without include_usage: no usage chunk', async () => {
  const stream = await stack.openai.chat.completions.create({ model: claude('ok'), messages: userMessage('x-fmt quiet'), stream: true });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), FAKE_TEXT);
  assert.ok(chunks.every((c) => c.choices.length > 0 && !c.usage));
});

test('Anthropic SDK → openai-compatible provider: message translated from chat completions', async () => {
  const message = await stack.anthropic.messages.create({
    model: oai('ok'), max_tokens: 40, system: 'You are terse.', messages: userMessage('x-fmt two'),
  });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.deepEqual(message.content.map((b) => (b.type === 'text' ? b.text : b.type)), [FAKE_TEXT]);
  assert.equal(message.stop_reason, 'end_turn');
  assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [12, 5]);

  const sent = sentWith('/v1/chat/completions', 'x-fmt two');
  assert.equal(sent.body.model, 'ok');
  assert.deepEqual(sent.body.messages.map((m: any) => [m.role, plain(m.content)]), [['system', 'You are terse.'], ['user', 'x-fmt two']]);
  assert.equal(sent.body.max_tokens ?? sent.body.max_completion_tokens, 40);
  assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_OPENAI_KEY}`);
});

test('Anthropic SDK → openai-compatible provider, streaming: deltas, final message and usage', async () => {
  const deltas: string[] = [];
  const stream = stack.anthropic.messages.stream({ model: oai('ok'), max_tokens: 40, messages: userMessage('x-fmt stream two') });
  stream.on('text', (text) => deltas.push(text));
  const message = await stream.finalMessage();
  assert.ok(deltas.length >= 2, `several deltas, got ${deltas.length}`);
  assert.equal(deltas.join(''), FAKE_TEXT);
  assert.equal(message.stop_reason, 'end_turn');
  assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [12, 5]);
  const sent = sentWith('/v1/chat/completions', 'x-fmt stream two');
  assert.equal(sent.body.stream, true);
  assert.equal(sent.body.stream_options?.include_usage, true, 'the gateway asked upstream for usage');
});

test("across formats the upstream sees only its provider key, never the client's Authorization or x-api-key", async () => {
  await stack.openai.chat.completions.create({ model: claude('ok'), messages: userMessage('x-fmt key a') });
  await stack.anthropic.messages.create({ model: oai('ok'), max_tokens: 8, messages: userMessage('x-fmt key b') });
  const toAnthropic = sentWith('/v1/messages', 'x-fmt key a');
  const toOpenAI = sentWith('/v1/chat/completions', 'x-fmt key b');
  assert.equal(toAnthropic.headers['x-api-key'], UPSTREAM_ANTHROPIC_KEY);
  assert.equal(toAnthropic.headers.authorization, undefined, 'no Authorization header is sent to Anthropic');
  assert.equal(toOpenAI.headers.authorization, `Bearer ${UPSTREAM_OPENAI_KEY}`);
  assert.equal(toOpenAI.headers['x-api-key'], undefined, 'no x-api-key header is sent to the OpenAI-compatible upstream');
  for (const sent of [toAnthropic, toOpenAI]) assert.ok(!JSON.stringify(sent.headers).includes(CLIENT_KEY));
});

test('errors follow the client dialect: OpenAI SDK → anthropic upstream 429', async () => {
  const err = await rejectsAs(stack.openai.chat.completions.create({ model: claude('fail-429'), messages: userMessage('x') }), OpenAI.RateLimitError);
  assert.equal(err.status, 429);
  assert.equal(err.code, 'GW_UPSTREAM_RATE_LIMITED');
  assert.equal(err.headers.get('retry-after'), FAKE_RETRY_AFTER);
});

test('errors follow the client dialect: Anthropic SDK → openai-compatible upstream 500', async () => {
  const err = await rejectsAs(stack.anthropic.messages.create({ model: oai('fail-500'), max_tokens: 8, messages: userMessage('x') }), Anthropic.InternalServerError);
  assert.equal(err.status, 502);
  const body = err.error as any;
  assert.equal(body?.type, 'error');
  assert.equal(body?.error?.type, 'api_error');
  assert.equal(typeof body?.error?.message, 'string');
});
