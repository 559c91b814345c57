// The Vercel AI SDK against Vigil, unchanged: `ai`'s generateText and streamText with `@ai-sdk/openai`'s
// default model (it speaks the Responses API, POST /v1/responses) and with `@ai-sdk/anthropic` (Messages),
// each pointed at the gateway's base URL and nothing else. Behind the gateway: the fake upstreams, an
// OpenAI-compatible server that serves chat completions only and an Anthropic one, answering with their
// canned text or with recorded tool-call fixtures (test/contract/providers/fixtures). What the SDK reports
// as usage must be what the upstream reported.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { FAKE_TEXT, FAKE_USAGE, fixtureModel, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { CLIENT_KEY, claude, e2eConfig, oai } from '../helpers/stack.ts';

let fake: FakeUpstream;
let gateway: Gateway;
let openai: ReturnType<typeof createOpenAI>;
let anthropic: ReturnType<typeof createAnthropic>;

// Recorded tool calls: OpenAI get_weather + get_time, 214 in / 51 out; Anthropic text then get_weather,
// 42 uncached + 1800 read from the prompt cache + 256 written to it, 71 out.
const OAI_TOOLS = 'oai-tools';
const CLAUDE_TOOLS = 'claude-tools';
const OAI_TOOL_USAGE = { input: 214, output: 51 };
const CLAUDE_TOOL_USAGE = { uncached: 42, cacheRead: 1800, cacheWrite: 256, output: 71 };

before(async () => {
  fake = await startFakeUpstream();
  const config = e2eConfig(fake.url);
  config.models.push(
    { name: OAI_TOOLS, provider: 'fake-openai', upstream_model: fixtureModel('openai', 'chat-tool-calls') },
    { name: CLAUDE_TOOLS, provider: 'fake-anthropic', upstream_model: fixtureModel('anthropic', 'messages-tool-use') },
  );
  try {
    gateway = await startGateway(config);
  } catch (err) {
    await fake.close();
    throw err;
  }
  openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY });
  anthropic = createAnthropic({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
});

const NO_RETRIES = { maxRetries: 0 } as const;

/** Both tools of the recorded fixtures; each answers with a fixed result the next request must carry. */
const weatherTools = () => ({
  get_weather: tool({
    description: 'Current weather at a location',
    inputSchema: jsonSchema<{ location: string; unit?: string }>({
      type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string' } }, required: ['location'],
    }),
    execute: async ({ location }) => ({ location, celsius: 3 }),
  }),
  get_time: tool({
    description: 'Current time in a time zone',
    inputSchema: jsonSchema<{ timezone: string }>({ type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] }),
    execute: async ({ timezone }) => ({ timezone, time: '09:30' }),
  }),
});

const upstreamCalls = (path: string, marker: string) =>
  fake.requests.filter((r) => r.path === path && r.rawBody.includes(marker));

test('@ai-sdk/openai (Responses API) generateText → chat-completions-only upstream: text and exact usage', async () => {
  const result = await generateText({ model: openai(oai('ok')), prompt: 'aisdk responses text', ...NO_RETRIES });
  assert.equal(result.text, FAKE_TEXT);
  assert.equal(result.finishReason, 'stop');
  assert.deepEqual([result.usage.inputTokens, result.usage.outputTokens, result.usage.totalTokens], [FAKE_USAGE.input, FAKE_USAGE.output, FAKE_USAGE.input + FAKE_USAGE.output]);
  const [sent] = upstreamCalls('/v1/chat/completions', 'aisdk responses text');
  assert.ok(sent, 'the Responses request reached the upstream as a chat completion');
  assert.equal(sent.body.model, 'ok');
});

test('@ai-sdk/openai (Responses API) streamText → chat-completions-only upstream: deltas, finish and usage', async () => {
  const result = streamText({ model: openai(oai('ok')), prompt: 'aisdk responses stream', ...NO_RETRIES });
  const deltas: string[] = [];
  for await (const delta of result.textStream) deltas.push(delta);
  assert.ok(deltas.length >= 2, `several deltas, got ${deltas.length}`);
  assert.equal(deltas.join(''), FAKE_TEXT);
  assert.equal(await result.finishReason, 'stop');
  const usage = await result.usage;
  assert.deepEqual([usage.inputTokens, usage.outputTokens], [FAKE_USAGE.input, FAKE_USAGE.output]);
  const [sent] = upstreamCalls('/v1/chat/completions', 'aisdk responses stream');
  assert.equal(sent.body.stream, true);
  assert.equal(sent.body.stream_options?.include_usage, true, 'streams always ask the upstream for usage');
});

test('@ai-sdk/openai (Responses API) → anthropic upstream: text and exact usage, translated to Messages', async () => {
  const result = await generateText({ model: openai(claude('ok')), prompt: 'aisdk responses to claude', ...NO_RETRIES });
  assert.equal(result.text, FAKE_TEXT);
  assert.deepEqual([result.usage.inputTokens, result.usage.outputTokens], [FAKE_USAGE.input, FAKE_USAGE.output]);
  const [sent] = upstreamCalls('/v1/messages', 'aisdk responses to claude');
  assert.ok(sent && Number.isInteger(sent.body.max_tokens), 'translated to Messages, max_tokens set');
});

test('@ai-sdk/openai (Responses API): a tool call round trip, the tool result sent back upstream', async () => {
  const result = await generateText({
    model: openai(OAI_TOOLS), prompt: 'aisdk weather and time in Oslo', tools: weatherTools(), stopWhen: stepCountIs(2), ...NO_RETRIES,
  });
  const [first, second] = result.steps;
  assert.deepEqual(first.toolCalls.map((c) => [c.toolName, c.input]), [
    ['get_weather', { location: 'Oslo, Norway', unit: 'celsius' }], ['get_time', { timezone: 'Europe/Oslo' }],
  ]);
  assert.equal(first.finishReason, 'tool-calls');
  assert.deepEqual([first.usage.inputTokens, first.usage.outputTokens], [OAI_TOOL_USAGE.input, OAI_TOOL_USAGE.output]);
  assert.ok(second, 'a second step ran with the tool results');
  const calls = upstreamCalls('/v1/chat/completions', 'aisdk weather and time in Oslo');
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[0].body.tools.map((t: any) => t.function.name), ['get_weather', 'get_time']);
  const results = calls[1].body.messages.filter((m: any) => m.role === 'tool');
  const assistant = calls[1].body.messages.find((m: any) => m.role === 'assistant');
  assert.deepEqual(assistant.tool_calls.map((c: any) => c.function.name), ['get_weather', 'get_time']);
  assert.deepEqual(results.map((m: any) => m.tool_call_id), assistant.tool_calls.map((c: any) => c.id), 'each result answers its call');
  assert.match(String(results[0].content), /celsius/);
  assert.deepEqual([result.totalUsage.inputTokens, result.totalUsage.outputTokens], [2 * OAI_TOOL_USAGE.input, 2 * OAI_TOOL_USAGE.output]);
});

test('@ai-sdk/openai (Responses API) streamText with tools: the calls arrive as stream parts', async () => {
  const result = streamText({ model: openai(OAI_TOOLS), prompt: 'aisdk streamed tools', tools: weatherTools(), ...NO_RETRIES });
  const calls = (await result.toolCalls).map((c) => [c.toolName, c.input]);
  assert.deepEqual(calls, [['get_weather', { location: 'Oslo, Norway', unit: 'celsius' }], ['get_time', { timezone: 'Europe/Oslo' }]]);
  assert.equal(await result.finishReason, 'tool-calls');
  const usage = await result.usage;
  assert.deepEqual([usage.inputTokens, usage.outputTokens], [OAI_TOOL_USAGE.input, OAI_TOOL_USAGE.output]);
});

test('@ai-sdk/anthropic generateText → anthropic upstream (passthrough): text and exact usage', async () => {
  const result = await generateText({ model: anthropic(claude('ok')), prompt: 'aisdk messages text', ...NO_RETRIES });
  assert.equal(result.text, FAKE_TEXT);
  assert.equal(result.finishReason, 'stop');
  assert.deepEqual([result.usage.inputTokens, result.usage.outputTokens], [FAKE_USAGE.input, FAKE_USAGE.output]);
  const [sent] = upstreamCalls('/v1/messages', 'aisdk messages text');
  assert.equal(sent.body.model, 'ok');
});

test('@ai-sdk/anthropic streamText → chat-completions-only upstream (translated): deltas and usage', async () => {
  const result = streamText({ model: anthropic(oai('ok')), prompt: 'aisdk messages stream', ...NO_RETRIES });
  const deltas: string[] = [];
  for await (const delta of result.textStream) deltas.push(delta);
  assert.equal(deltas.join(''), FAKE_TEXT);
  assert.equal(await result.finishReason, 'stop');
  const usage = await result.usage;
  assert.deepEqual([usage.inputTokens, usage.outputTokens], [FAKE_USAGE.input, FAKE_USAGE.output]);
});

test('@ai-sdk/anthropic: a tool call round trip with prompt-cache usage, reads and writes as the upstream reported', async () => {
  const result = await generateText({
    model: anthropic(CLAUDE_TOOLS), prompt: 'aisdk claude weather', tools: weatherTools(), stopWhen: stepCountIs(2), ...NO_RETRIES,
  });
  const [first] = result.steps;
  assert.equal(first.text, 'I\'ll check the current weather in Oslo for you.');
  assert.deepEqual(first.toolCalls.map((c) => [c.toolName, c.input]), [['get_weather', { location: 'Oslo, Norway', unit: 'celsius' }]]);
  const { uncached, cacheRead, cacheWrite, output } = CLAUDE_TOOL_USAGE;
  assert.deepEqual(
    [first.usage.inputTokens, first.usage.inputTokenDetails.noCacheTokens, first.usage.inputTokenDetails.cacheReadTokens, first.usage.inputTokenDetails.cacheWriteTokens, first.usage.outputTokens],
    [uncached + cacheRead + cacheWrite, uncached, cacheRead, cacheWrite, output],
  );
  const calls = upstreamCalls('/v1/messages', 'aisdk claude weather');
  assert.equal(calls.length, 2);
  const toolResult = calls[1].body.messages.at(-1).content.find((b: any) => b.type === 'tool_result');
  assert.equal(toolResult.tool_use_id, 'toolu_01T1x1fJ34qAmk2tNTrN7Up6');
});

test('@ai-sdk/anthropic streamText with tools: the streamed tool call and the cache usage of message_start', async () => {
  const result = streamText({ model: anthropic(CLAUDE_TOOLS), prompt: 'aisdk claude streamed tools', tools: weatherTools(), ...NO_RETRIES });
  const calls = (await result.toolCalls).map((c) => [c.toolName, c.input]);
  assert.deepEqual(calls, [['get_weather', { location: 'Oslo, Norway', unit: 'celsius' }]]);
  const usage = await result.usage;
  const { uncached, cacheRead, cacheWrite } = CLAUDE_TOOL_USAGE;
  assert.deepEqual([usage.inputTokenDetails.noCacheTokens, usage.inputTokenDetails.cacheReadTokens, usage.inputTokenDetails.cacheWriteTokens], [uncached, cacheRead, cacheWrite]);
});

test('@ai-sdk/openai (Responses API) → anthropic upstream with tools: normalised input, cache reads reported', async () => {
  // Responses usage counts cached tokens inside input_tokens; the gateway normalises Anthropic's figures so.
  // store: false, because the SDK's default (store: true) refers to earlier output items by id, which a
  // stateless translated backend cannot resolve.
  const result = await generateText({
    model: openai(CLAUDE_TOOLS), prompt: 'aisdk responses claude tools', tools: weatherTools(), stopWhen: stepCountIs(2),
    providerOptions: { openai: { store: false } }, ...NO_RETRIES,
  });
  const [first] = result.steps;
  assert.deepEqual(first.toolCalls.map((c) => c.toolName), ['get_weather']);
  const { uncached, cacheRead, cacheWrite, output } = CLAUDE_TOOL_USAGE;
  assert.deepEqual([first.usage.inputTokens, first.usage.inputTokenDetails.cacheReadTokens, first.usage.outputTokens], [uncached + cacheRead + cacheWrite, cacheRead, output]);
  const calls = upstreamCalls('/v1/messages', 'aisdk responses claude tools');
  assert.equal(calls.length, 2);
  const blocks = calls[1].body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : []));
  const toolUse = blocks.find((b: any) => b.type === 'tool_use');
  assert.deepEqual([toolUse?.name, toolUse?.input], ['get_weather', { location: 'Oslo, Norway', unit: 'celsius' }]);
  assert.equal(blocks.find((b: any) => b.type === 'tool_result')?.tool_use_id, toolUse.id, 'the result answers its call');
});
