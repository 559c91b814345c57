// What each official SDK makes of the gateway's answer when the upstream sent a recorded fixture: on the
// passthrough path (the client speaks the provider's dialect: the bytes are relayed) and the translated one
// (the other dialect: decoded to canonical and encoded again). The SDK must parse every answer, assemble the
// same text, tool calls and usage the fixture holds, surface an in-stream error as an error, and the usage
// ledger must bill what the fixture reported.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { fixtureModel, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../../helpers/gateway.ts';
import { ledgerRow } from '../../helpers/ledger.ts';
import { CLIENT_KEY, e2eConfig, userMessage } from '../../helpers/stack.ts';
import { fixtureJson } from './decode.ts';

const OPENAI_FIXTURES = ['chat-text', 'chat-tool-calls', 'chat-error'];
const ANTHROPIC_FIXTURES = ['messages-tool-use', 'messages-error'];
/** Gateway model names: the fixture behind the OpenAI-compatible provider, or behind the Anthropic one. */
const viaOpenAI = (name: string) => `fx-openai-${name}`;
const viaAnthropic = (name: string) => `fx-anthropic-${name}`;

/** What each fixture holds, in canonical terms (fixtures/*: the contract tests beside this one decode the same). */
const OSLO_TEXT = 'The capital of Norway is Oslo.';
const WEATHER = { name: 'get_weather', input: { location: 'Oslo, Norway', unit: 'celsius' } };
const TIME = { name: 'get_time', input: { timezone: 'Europe/Oslo' } };
const CLAUDE_TEXT = "I'll check the current weather in Oslo for you.";
const USAGE = {
  'chat-text': { input: 1342, output: 8, cached: 1280 },
  'chat-tool-calls': { input: 214, output: 51, cached: 0 },
  'messages-tool-use': { input: 42 + 1800 + 256, output: 71, cached: 1800 },
} as const;

let fake: FakeUpstream;
let gateway: Gateway;
let dataDir: string;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-contract-'));
  const config = e2eConfig(fake.url);
  config.store = { flush_interval_ms: 50 };
  for (const name of OPENAI_FIXTURES) config.models.push({ name: viaOpenAI(name), provider: 'fake-openai', upstream_model: fixtureModel('openai', name) });
  for (const name of ANTHROPIC_FIXTURES) config.models.push({ name: viaAnthropic(name), provider: 'fake-anthropic', upstream_model: fixtureModel('anthropic', name) });
  gateway = await startGateway(config, { VIGIL_DATA_DIR: dataDir });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The usage row of a request bills the fixture's tokens (what the relay or the decoder noted). */
async function assertBilled(requestId: string, usage: { input: number; output: number; cached: number }, stream: boolean): Promise<void> {
  const row = await ledgerRow(dataDir, requestId);
  assert.deepEqual(
    { input: row.input_tokens, output: row.output_tokens, cached: row.cached_input_tokens, status: row.status, error_class: row.error_class, stream: row.stream },
    { ...usage, status: 200, error_class: '', stream: stream ? 1 : 0 },
  );
}

const toolCallsOf = (message: OpenAI.Chat.Completions.ChatCompletionMessage) =>
  (message.tool_calls ?? []).map((c) => (c.type === 'function' ? { name: c.function.name, input: JSON.parse(c.function.arguments) } : c));
const toolUsesOf = (message: Anthropic.Message) =>
  message.content.flatMap((b) => (b.type === 'tool_use' ? [{ name: b.name, input: b.input }] : []));
const textOf = (message: Anthropic.Message) => message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');

// --- openai SDK, passthrough (OpenAI upstream) ---

for (const name of ['chat-text', 'chat-tool-calls'] as const) {
  test(`openai SDK, passthrough, ${name}.json: the completion is the upstream's, field for field`, async () => {
    const marker = `contract-openai-json-${name}`;
    const completion = await openai.chat.completions.create({ model: viaOpenAI(name), messages: userMessage('hi') }, { headers: { 'x-request-id': marker } });
    assert.deepEqual({ ...completion }, fixtureJson('openai', name));
    await assertBilled(marker, USAGE[name], false);
  });
}

test('openai SDK, passthrough, chat-text.sse with include_usage: the text, then the `choices: []` usage chunk with cached tokens', async () => {
  const marker = 'contract-openai-sse-text';
  const stream = await openai.chat.completions.create(
    { model: viaOpenAI('chat-text'), messages: userMessage('hi'), stream: true, stream_options: { include_usage: true } },
    { headers: { 'x-request-id': marker } },
  );
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), OSLO_TEXT);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage?.prompt_tokens, 1342);
  assert.equal(last.usage?.completion_tokens, 8);
  assert.equal(last.usage?.prompt_tokens_details?.cached_tokens, 1280);
  assert.equal(chunks.filter((c) => c.usage).length, 1);
  await assertBilled(marker, USAGE['chat-text'], true);
});

test('openai SDK, passthrough, chat-tool-calls.sse without include_usage: the SDK assembles both calls; the usage chunk stays hidden but is billed', async () => {
  const marker = 'contract-openai-sse-tools';
  const stream = openai.chat.completions.stream({ model: viaOpenAI('chat-tool-calls'), messages: userMessage('hi') }, { headers: { 'x-request-id': marker } });
  const seen: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  stream.on('chunk', (chunk) => seen.push(chunk));
  const completion = await stream.finalChatCompletion();
  assert.deepEqual(toolCallsOf(completion.choices[0].message), [WEATHER, TIME]);
  assert.deepEqual(completion.choices[0].message.tool_calls?.map((c) => c.id), ['call_Xk3pQ9vR2mT7bN1sLw8yD4eH', 'call_Jd6fA0cK5uE8hG2iOq9zR3tM']);
  assert.equal(completion.choices[0].finish_reason, 'tool_calls');
  assert.ok(seen.every((c) => c.choices.length === 1), 'no `choices: []` chunk the client did not ask for');
  await assertBilled(marker, USAGE['chat-tool-calls'], true);
});

// --- openai SDK, translated (Anthropic upstream) ---

test('openai SDK, translated, messages-tool-use.json: text, the tool call with its arguments, tool_calls, usage with cached tokens', async () => {
  const marker = 'contract-openai-from-anthropic-json';
  const completion = await openai.chat.completions.create({ model: viaAnthropic('messages-tool-use'), messages: userMessage('hi') }, { headers: { 'x-request-id': marker } });
  const [choice] = completion.choices;
  assert.equal(choice.message.content, CLAUDE_TEXT);
  assert.deepEqual(toolCallsOf(choice.message), [WEATHER]);
  assert.match(choice.message.tool_calls![0].id, /^call_/, 'a tool call id in the OpenAI form');
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.deepEqual(
    [completion.usage?.prompt_tokens, completion.usage?.completion_tokens, completion.usage?.prompt_tokens_details?.cached_tokens],
    [USAGE['messages-tool-use'].input, 71, 1800],
  );
  await assertBilled(marker, USAGE['messages-tool-use'], false);
});

test('openai SDK, translated, messages-tool-use.sse: the SDK assembles the text and the tool call; include_usage brings the totals', async () => {
  const marker = 'contract-openai-from-anthropic-sse';
  const stream = openai.chat.completions.stream(
    { model: viaAnthropic('messages-tool-use'), messages: userMessage('hi'), stream_options: { include_usage: true } },
    { headers: { 'x-request-id': marker } },
  );
  const completion = await stream.finalChatCompletion();
  const [choice] = completion.choices;
  assert.equal(choice.message.content, CLAUDE_TEXT);
  assert.deepEqual(toolCallsOf(choice.message), [WEATHER]);
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.deepEqual([completion.usage?.prompt_tokens, completion.usage?.completion_tokens], [USAGE['messages-tool-use'].input, 71]);
  assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 1800);
  await assertBilled(marker, USAGE['messages-tool-use'], true);
});

// --- Anthropic SDK, passthrough (Anthropic upstream) ---

test('Anthropic SDK, passthrough, messages-tool-use.json: the message is the upstream\'s, field for field', async () => {
  const marker = 'contract-anthropic-json';
  const message = await anthropic.messages.create({ model: viaAnthropic('messages-tool-use'), max_tokens: 64, messages: userMessage('hi') }, { headers: { 'x-request-id': marker } });
  assert.deepEqual({ ...message }, fixtureJson('anthropic', 'messages-tool-use'));
  await assertBilled(marker, USAGE['messages-tool-use'], false);
});

test('Anthropic SDK, passthrough, messages-tool-use.sse: finalMessage() has the text, the tool_use input and the cache usage', async () => {
  const marker = 'contract-anthropic-sse';
  const message = await anthropic.messages.stream({ model: viaAnthropic('messages-tool-use'), max_tokens: 64, messages: userMessage('hi') }, { headers: { 'x-request-id': marker } }).finalMessage();
  assert.equal(textOf(message), CLAUDE_TEXT);
  assert.deepEqual(toolUsesOf(message), [WEATHER]);
  assert.equal(message.stop_reason, 'tool_use');
  assert.deepEqual(
    [message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens, message.usage.output_tokens],
    [42, 1800, 256, 71],
  );
  await assertBilled(marker, USAGE['messages-tool-use'], true);
});

// --- Anthropic SDK, translated (OpenAI upstream) ---

test('Anthropic SDK, translated, chat-tool-calls.json and chat-text.json: tool_use blocks with their input, text, usage split into cache reads', async () => {
  const tools = await anthropic.messages.create({ model: viaOpenAI('chat-tool-calls'), max_tokens: 64, messages: userMessage('hi') }, { headers: { 'x-request-id': 'contract-anthropic-from-openai-tools' } });
  assert.deepEqual(toolUsesOf(tools), [WEATHER, TIME]);
  assert.ok(tools.content.every((b) => b.type !== 'tool_use' || b.id.startsWith('toolu_')), 'tool ids in the Anthropic form');
  assert.equal(tools.stop_reason, 'tool_use');
  await assertBilled('contract-anthropic-from-openai-tools', USAGE['chat-tool-calls'], false);

  const text = await anthropic.messages.create({ model: viaOpenAI('chat-text'), max_tokens: 64, messages: userMessage('hi') }, { headers: { 'x-request-id': 'contract-anthropic-from-openai-text' } });
  assert.equal(textOf(text), OSLO_TEXT);
  assert.equal(text.stop_reason, 'end_turn');
  assert.deepEqual([text.usage.input_tokens, text.usage.cache_read_input_tokens, text.usage.output_tokens], [1342 - 1280, 1280, 8]);
  await assertBilled('contract-anthropic-from-openai-text', USAGE['chat-text'], false);
});

test('Anthropic SDK, translated, chat-tool-calls.sse and chat-text.sse: finalMessage() assembles the blocks; message_delta brings the usage', async () => {
  const tools = await anthropic.messages.stream({ model: viaOpenAI('chat-tool-calls'), max_tokens: 64, messages: userMessage('hi') }, { headers: { 'x-request-id': 'contract-anthropic-from-openai-sse-tools' } }).finalMessage();
  assert.deepEqual(toolUsesOf(tools), [WEATHER, TIME]);
  assert.equal(tools.stop_reason, 'tool_use');
  assert.equal(tools.usage.output_tokens, 51);
  await assertBilled('contract-anthropic-from-openai-sse-tools', USAGE['chat-tool-calls'], true);

  const text = await anthropic.messages.stream({ model: viaOpenAI('chat-text'), max_tokens: 64, messages: userMessage('hi') }, { headers: { 'x-request-id': 'contract-anthropic-from-openai-sse-text' } }).finalMessage();
  assert.equal(textOf(text), OSLO_TEXT);
  assert.deepEqual([text.usage.input_tokens, text.usage.cache_read_input_tokens, text.usage.output_tokens], [1342 - 1280, 1280, 8]);
  await assertBilled('contract-anthropic-from-openai-sse-text', USAGE['chat-text'], true);
});

// --- in-stream error events, every SDK × path ---

for (const [sdk, path, model, text] of [
  ['openai', 'passthrough', viaOpenAI('chat-error'), 'The capital'],
  ['openai', 'translated', viaAnthropic('messages-error'), "I'll check"],
  ['anthropic', 'passthrough', viaAnthropic('messages-error'), "I'll check"],
  ['anthropic', 'translated', viaOpenAI('chat-error'), 'The capital'],
] as const) {
  test(`${sdk} SDK, ${path}, error event after some text: the text arrives, then the SDK throws the gateway's error`, async () => {
    const marker = `contract-error-${sdk}-${path}`;
    let received = '';
    let ended: unknown = 'the stream ended without an error';
    if (sdk === 'openai') {
      try {
        const stream = await openai.chat.completions.create({ model, messages: userMessage('hi'), stream: true }, { headers: { 'x-request-id': marker } });
        for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
      } catch (err) { ended = err; }
      assert.ok(ended instanceof OpenAI.APIError && ended.status === undefined, `an error event inside the 200 stream, got: ${ended}`);
      assert.equal(ended.code, 'GW_UPSTREAM_SERVER_ERROR');
    } else {
      const stream = anthropic.messages.stream({ model, max_tokens: 64, messages: userMessage('hi') }, { headers: { 'x-request-id': marker } });
      stream.on('text', (delta) => { received += delta; });
      ended = await stream.finalMessage().then(() => 'the stream ended without an error', (err) => err);
      assert.ok(ended instanceof Anthropic.APIError && ended.status === undefined, `an error event inside the 200 stream, got: ${ended}`);
      assert.equal((ended.error as any).error.type, 'api_error');
      assert.equal((ended.error as any).request_id, marker);
    }
    assert.equal(received, text);
    const row = await ledgerRow(dataDir, marker);
    assert.deepEqual([row.status, row.error_class], [200, 'server_error']);
  });
}
