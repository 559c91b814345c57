// What the official SDKs see of answers the gateway composes itself (the mock, and translations between
// dialects): input usage at the start of Anthropic streams, ids unique and in the client's form, tool
// input that fits the tool's schema, and request values every provider rejects refused at the surface.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { assertAnthropicError } from '../helpers/errors.ts';
import { claude, oai, rejectsAs, startStack, userMessage, type Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

async function rawEvents(model: string, prompt: string): Promise<Anthropic.RawMessageStreamEvent[]> {
  const stream = await stack.anthropic.messages.create({ model, max_tokens: 64, messages: userMessage(prompt), stream: true });
  const events: Anthropic.RawMessageStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

test('Anthropic SDK, mock stream: message_start carries the input tokens, message_delta the whole usage', async () => {
  // "Stream from the mock" is 20 characters → 5 input tokens; the mock answers 16 words.
  const events = await rawEvents('mock-chat', 'Stream from the mock');
  const start = events[0] as Anthropic.RawMessageStartEvent;
  assert.equal(start.type, 'message_start');
  assert.equal(start.message.usage.input_tokens, 5, 'input tokens known when the stream starts');
  const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
  assert.equal(delta.type, 'message_delta');
  assert.deepEqual([delta.usage.input_tokens, delta.usage.cache_read_input_tokens, delta.usage.output_tokens], [5, 0, 16]);
});

test('Anthropic SDK → OpenAI upstream stream: the whole usage arrives in message_delta', async () => {
  const events = await rawEvents(oai('ok'), 'usage at the end');
  const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
  assert.deepEqual([delta.usage.input_tokens, delta.usage.cache_read_input_tokens, delta.usage.output_tokens], [12, 0, 5]);
});

test('Anthropic SDK: message ids are msg_… and unique, for the mock and translations; passthrough keeps the upstream id', async () => {
  for (const model of ['mock-chat', oai('ok')]) {
    const ask = () => stack.anthropic.messages.create({ model, max_tokens: 16, messages: userMessage('same prompt') });
    const [a, b] = [await ask(), await ask()];
    const streamed = (await rawEvents(model, 'same prompt'))[0] as Anthropic.RawMessageStartEvent;
    for (const id of [a.id, b.id, streamed.message.id]) assert.match(id, /^msg_[A-Za-z0-9]{16,}$/, `${model}: ${id}`);
    assert.equal(new Set([a.id, b.id, streamed.message.id]).size, 3, `${model}: ids are unique`);
  }
  const passthrough = await stack.anthropic.messages.create({ model: claude('ok'), max_tokens: 16, messages: userMessage('same prompt') });
  assert.match(passthrough.id, /^msg_fake_\d+$/);
});

test('OpenAI SDK: completion ids are chatcmpl-… and unique, for the mock and translations; passthrough keeps the upstream id', async () => {
  for (const model of ['mock-chat', claude('ok')]) {
    const ask = () => stack.openai.chat.completions.create({ model, messages: userMessage('same prompt') });
    const [a, b] = [await ask(), await ask()];
    const chunks = [];
    for await (const chunk of await stack.openai.chat.completions.create({ model, messages: userMessage('same prompt'), stream: true })) chunks.push(chunk);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id across a stream');
    for (const id of [a.id, b.id, chunks[0].id]) assert.match(id, /^chatcmpl-[A-Za-z0-9]{16,}$/, `${model}: ${id}`);
    assert.equal(new Set([a.id, b.id, chunks[0].id]).size, 3, `${model}: ids are unique`);
  }
  const passthrough = await stack.openai.chat.completions.create({ model: oai('ok'), messages: userMessage('same prompt') });
  assert.match(passthrough.id, /^chatcmpl-fake-\d+$/);
});

/** A tool schema as agents write them: nested required objects, enums, arrays, bounded numbers. */
const BOOKING_SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'Where' },
    nights: { type: 'integer', minimum: 2, maximum: 14 },
    budget: { type: 'number', exclusiveMinimum: 0 },
    unit: { type: 'string', enum: ['eur', 'usd'] },
    breakfast: { type: 'boolean' },
    guests: {
      type: 'array', minItems: 1,
      items: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } }, required: ['name', 'age'], additionalProperties: false },
    },
    contact: {
      type: 'object',
      properties: { email: { type: 'string' }, phone: { type: 'string' } },
      required: ['email'],
      additionalProperties: false,
    },
    note: { type: 'string' },
  },
  required: ['city', 'nights', 'budget', 'unit', 'breakfast', 'guests', 'contact'],
  additionalProperties: false,
};
const validBooking = z.fromJSONSchema(BOOKING_SCHEMA as any);
const PROMPT = 'Book two nights in Oslo';

function assertFits(input: unknown): void {
  const parsed = validBooking.safeParse(input);
  assert.ok(parsed.success, `tool input ${JSON.stringify(input)} does not fit the schema: ${parsed.error}`);
  assert.equal((input as { city: string }).city, PROMPT, 'strings come from the prompt');
}

test('OpenAI SDK, mock: the tool call fills the tool schema, with a unique call_… id', async () => {
  const ask = () => stack.openai.chat.completions.create({
    model: 'mock-chat', messages: userMessage(PROMPT),
    tools: [{ type: 'function', function: { name: 'book', parameters: BOOKING_SCHEMA } }],
  });
  const [a, b] = [await ask(), await ask()];
  const calls = [a, b].map((c) => c.choices[0].message.tool_calls?.[0]);
  for (const call of calls) {
    assert.ok(call?.type === 'function');
    assert.match(call.id, /^call_[A-Za-z0-9]{16,}$/);
    assertFits(JSON.parse(call.function.arguments));
  }
  assert.notEqual(calls[0]!.id, calls[1]!.id);
  assert.equal(calls[0]?.type === 'function' && calls[0].function.arguments, calls[1]?.type === 'function' && calls[1].function.arguments, 'deterministic input');
});

test('Anthropic SDK, mock: the tool_use input fits the tool schema (JSON and streamed), with unique toolu_… ids', async () => {
  const params = { model: 'mock-chat', max_tokens: 64, messages: userMessage(PROMPT), tools: [{ name: 'book', input_schema: BOOKING_SCHEMA as Anthropic.Tool.InputSchema }] };
  const whole = await stack.anthropic.messages.create(params);
  const streamed = await stack.anthropic.messages.stream(params).finalMessage();
  const blocks = [whole, streamed].map((m) => m.content.find((b) => b.type === 'tool_use'));
  for (const block of blocks) {
    assert.ok(block?.type === 'tool_use');
    assert.match(block.id, /^toolu_[A-Za-z0-9]{16,}$/);
    assertFits(block.input);
  }
  assert.notEqual(blocks[0]!.id, blocks[1]!.id);
  assert.equal(whole.stop_reason, 'tool_use');
});

test('OpenAI SDK: out-of-range values are refused in OpenAI shape with their own param, passthrough and mock alike', async () => {
  const cases: [Record<string, number>, string][] = [
    [{ max_tokens: -1 }, 'max_tokens'], [{ max_tokens: 0 }, 'max_tokens'], [{ max_tokens: 1.5 }, 'max_tokens'],
    [{ max_completion_tokens: 0 }, 'max_completion_tokens'],
    [{ temperature: 2.5 }, 'temperature'], [{ temperature: -0.1 }, 'temperature'],
    [{ top_p: 1.5 }, 'top_p'], [{ n: 0 }, 'n'], [{ n: 1.5 }, 'n'],
  ];
  for (const model of [oai('ok'), 'mock-chat']) {
    for (const [values, param] of cases) {
      const marker = `bad ${model} ${JSON.stringify(values)}`;
      const err = await rejectsAs(stack.openai.chat.completions.create({ model, messages: userMessage(marker), ...values }), OpenAI.BadRequestError);
      assert.equal(err.code, 'GW_REQUEST_INVALID', marker);
      assert.equal(err.param, param, marker);
      assert.match(err.message, new RegExp(param));
      assert.ok(!stack.fake.requests.some((r) => JSON.stringify(r.body ?? {}).includes(marker)), `${marker} went upstream`);
    }
  }
  // The edges are valid.
  await stack.openai.chat.completions.create({ model: oai('ok'), messages: userMessage('edges'), temperature: 2, top_p: 0, n: 1, max_tokens: 1 });
});

test('Anthropic SDK: out-of-range values are refused in Anthropic shape naming the parameter, passthrough and mock alike', async () => {
  const cases: [Record<string, number>, string][] = [
    [{ max_tokens: 0 }, 'max_tokens'], [{ max_tokens: -5 }, 'max_tokens'], [{ max_tokens: 2.5 }, 'max_tokens'],
    [{ temperature: 1.5 }, 'temperature'], [{ top_p: 2 }, 'top_p'],
  ];
  for (const model of [claude('ok'), 'mock-chat']) {
    for (const [values, param] of cases) {
      const marker = `bad ${model} ${JSON.stringify(values)}`;
      const err = await rejectsAs(stack.anthropic.messages.create({ model, max_tokens: 16, messages: userMessage(marker), ...values }), Anthropic.BadRequestError);
      assertAnthropicError(err, 400, 'invalid_request_error');
      assert.match((err.error as any).error.message, new RegExp(`\\b${param} must be`), marker);
      assert.ok(!stack.fake.requests.some((r) => JSON.stringify(r.body ?? {}).includes(marker)), `${marker} went upstream`);
    }
  }
  // The SDK's types no longer list temperature and top_p; the API takes them, so they are sent as extras.
  const edges: Record<string, number> = { temperature: 1, top_p: 1 };
  await stack.anthropic.messages.create({ model: claude('ok'), max_tokens: 1, messages: userMessage('edges'), ...edges });
});
