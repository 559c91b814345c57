// Every client dialect × every provider kind, one table: OpenAI chat completions, OpenAI Responses and
// Anthropic Messages, each against an OpenAI provider, an Anthropic one, an OpenAI-compatible server that
// serves chat completions only (the fakes) and the mock; for plain text, streams, tool calls, JSON schema
// output and each feature a translation refuses. The rule under test: what the gateway cannot carry
// faithfully is refused with a 400 in the client's error shape naming the field, never dropped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { FAKE_TEXT, FAKE_USAGE, fixtureModel, startFakeUpstream, type FakeUpstream, type RecordedRequest } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { CLIENT_KEY, UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY } from '../helpers/stack.ts';

type Kind = 'openai' | 'anthropic' | 'compat' | 'mock';
const KINDS: Kind[] = ['openai', 'anthropic', 'compat', 'mock'];

let fake: FakeUpstream;
let gateway: Gateway;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  fake = await startFakeUpstream();
  const models: Record<string, unknown>[] = [{ name: 'mock-ok', provider: 'mock' }, { name: 'mock-tools', provider: 'mock' }];
  for (const kind of ['openai', 'compat'] as const) {
    models.push({ name: `${kind}-ok`, provider: `fake-${kind}`, upstream_model: 'ok' });
    models.push({ name: `${kind}-tools`, provider: `fake-${kind}`, upstream_model: fixtureModel('openai', 'chat-tool-calls') });
  }
  // The OpenAI provider serves /v1/responses itself: Responses clients reach it through a recorded Responses answer.
  models.push({ name: 'openai-native', provider: 'fake-openai', upstream_model: fixtureModel('openai', 'responses') });
  models.push({ name: 'anthropic-ok', provider: 'fake-anthropic', upstream_model: 'ok' });
  models.push({ name: 'anthropic-tools', provider: 'fake-anthropic', upstream_model: fixtureModel('anthropic', 'messages-tool-use') });
  const config = {
    providers: {
      mock: { kind: 'mock' },
      'fake-openai': { kind: 'openai', base_url: `${fake.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
      'fake-compat': { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
      'fake-anthropic': { kind: 'anthropic', base_url: fake.url, api_key: UPSTREAM_ANTHROPIC_KEY },
    },
    models,
  };
  try {
    gateway = await startGateway(config);
  } catch (err) {
    await fake.close();
    throw err;
  }
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
});
interface Answer { text: string; usage: [input: number, output: number] }
type Calls = [name: string, input: unknown][];

const WEATHER_SCHEMA = { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string' } }, required: ['location'], additionalProperties: false };
const TIME_SCHEMA = { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'], additionalProperties: false };
const ANSWER_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

/** How one client dialect asks, reads answers and reads refusals; `extra` goes into the request body as is. */
interface Dialect {
  text(model: string, prompt: string): Promise<Answer>;
  stream(model: string, prompt: string): Promise<Answer>;
  tools(model: string, prompt: string): Promise<Calls>;
  /** Asks for JSON by schema in the dialect's own field; returns the answer text. */
  json(model: string, prompt: string): Promise<string>;
  /** The field `json` used, as a refusal names it. */
  jsonField: string;
  send(model: string, prompt: string, extra: Record<string, unknown>): Promise<unknown>;
  /** Asserts `err` is a 400 GW_REQUEST_UNSUPPORTED in the dialect's error shape, naming `field`. */
  assertRefused(err: unknown, field: string, where: string): void;
}

/** OpenAI's error shape names the field in `param` and the gateway's code in `code`. */
function openaiRefused(err: unknown, field: string, where: string): void {
  assert.ok(err instanceof OpenAI.APIError, `${where}: an OpenAI API error, got ${err}`);
  assert.equal(err.status, 400, `${where}: ${err.message}`);
  assert.equal(err.code, 'GW_REQUEST_UNSUPPORTED', where);
  assert.equal(err.param, field, `${where}: the refusal names the field`);
}

const chat: Dialect = {
  async text(model, prompt) {
    const c = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: 64 });
    return { text: c.choices[0].message.content ?? '', usage: [c.usage!.prompt_tokens, c.usage!.completion_tokens] };
  },
  async stream(model, prompt) {
    const stream = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: 64, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: Answer['usage'] = [-1, -1];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens];
    }
    return { text, usage };
  },
  async tools(model, prompt) {
    const c = await openai.chat.completions.create({
      model, messages: [{ role: 'user', content: prompt }], max_tokens: 256,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER_SCHEMA } }, { type: 'function', function: { name: 'get_time', parameters: TIME_SCHEMA } }],
    });
    return (c.choices[0].message.tool_calls ?? []).map((t) => (t.type === 'function' ? [t.function.name, JSON.parse(t.function.arguments)] : [t.type, null]));
  },
  async json(model, prompt) {
    const c = await openai.chat.completions.create({
      model, messages: [{ role: 'user', content: prompt }], max_tokens: 64,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: ANSWER_SCHEMA, strict: true } },
    });
    return c.choices[0].message.content ?? '';
  },
  jsonField: 'response_format',
  send: (model, prompt, extra) => openai.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: 64, ...extra } as never),
  assertRefused: openaiRefused,
};

const responses: Dialect = {
  async text(model, prompt) {
    const r = await openai.responses.create({ model, input: prompt, max_output_tokens: 64 });
    return { text: r.output_text, usage: [r.usage!.input_tokens, r.usage!.output_tokens] };
  },
  async stream(model, prompt) {
    const stream = await openai.responses.create({ model, input: prompt, max_output_tokens: 64, stream: true });
    let text = '';
    let usage: Answer['usage'] = [-1, -1];
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') usage = [event.response.usage!.input_tokens, event.response.usage!.output_tokens];
    }
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    return { text, usage };
  },
  async tools(model, prompt) {
    const r = await openai.responses.create({
      model, input: prompt, max_output_tokens: 256,
      tools: [{ type: 'function', name: 'get_weather', parameters: WEATHER_SCHEMA, strict: true }, { type: 'function', name: 'get_time', parameters: TIME_SCHEMA, strict: true }],
    });
    return r.output.flatMap((item): Calls => (item.type === 'function_call' ? [[item.name, JSON.parse(item.arguments)]] : []));
  },
  async json(model, prompt) {
    const r = await openai.responses.create({ model, input: prompt, max_output_tokens: 64, text: { format: { type: 'json_schema', name: 'answer', schema: ANSWER_SCHEMA, strict: true } } });
    return r.output_text;
  },
  jsonField: 'text.format',
  send: (model, prompt, extra) => openai.responses.create({ model, input: prompt, max_output_tokens: 64, ...extra } as never),
  assertRefused: openaiRefused,
};

const messages: Dialect = {
  async text(model, prompt) {
    const m = await anthropic.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: prompt }] });
    return { text: m.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), usage: [m.usage.input_tokens, m.usage.output_tokens] };
  },
  async stream(model, prompt) {
    const m = await anthropic.messages.stream({ model, max_tokens: 64, messages: [{ role: 'user', content: prompt }] }).finalMessage();
    return { text: m.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), usage: [m.usage.input_tokens, m.usage.output_tokens] };
  },
  async tools(model, prompt) {
    const m = await anthropic.messages.create({
      model, max_tokens: 256, messages: [{ role: 'user', content: prompt }],
      tools: [{ name: 'get_weather', input_schema: WEATHER_SCHEMA as never }, { name: 'get_time', input_schema: TIME_SCHEMA as never }],
    });
    return m.content.flatMap((b): Calls => (b.type === 'tool_use' ? [[b.name, b.input]] : []));
  },
  async json(model, prompt) {
    const m = await anthropic.messages.create({
      model, max_tokens: 64, messages: [{ role: 'user', content: prompt }], output_config: { format: { type: 'json_schema', schema: ANSWER_SCHEMA } },
    } as never) as Anthropic.Message;
    return m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  },
  jsonField: 'output_config',
  send: (model, prompt, extra) => anthropic.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: prompt }], ...extra } as never),
  // Anthropic's error shape has no `param`: the message names the field.
  assertRefused(err, field, where) {
    assert.ok(err instanceof Anthropic.APIError, `${where}: an Anthropic API error, got ${err}`);
    const body = err.error as { type?: string; error?: { type?: string; message?: string } };
    assert.equal(err.status, 400, `${where}: ${body?.error?.message}`);
    assert.deepEqual([body?.type, body?.error?.type], ['error', 'invalid_request_error'], `${where}: the Anthropic error envelope`);
    assert.ok(body.error?.message?.includes(field), `${where}: the message names ${field}: ${body.error?.message}`);
  },
};

const DIALECTS = { chat, responses, messages } as const;
type DialectName = keyof typeof DIALECTS;

let marker = 0;
/** A prompt no other cell uses, so the upstream request it caused can be found. */
const promptFor = (cell: string) => `matrix ${cell} #${++marker}`;
const upstreamFor = (prompt: string): RecordedRequest | undefined => fake.requests.find((r) => r.rawBody.includes(prompt));

/** The recorded Responses answers (fixtures/openai/responses.json and .sse, a text and a function call), passed through untouched. */
const NATIVE_RESPONSES = { text: 'The capital of Norway is Oslo.', usage: [1342, 8] };
const NATIVE_RESPONSES_STREAM = { text: 'Let me check the weather in Oslo.', usage: [214, 31] };
/** Same dialect on an OpenAI provider: the Responses API passes through to the upstream's own /v1/responses. */
const native = (dialect: DialectName, kind: Kind) => dialect === 'responses' && kind === 'openai';
const modelFor = (dialect: DialectName, kind: Kind, purpose: 'ok' | 'tools') => (native(dialect, kind) ? 'openai-native' : `${kind}-${purpose}`);

/** What each provider kind answers: the fakes their canned text and usage; the mock its own, consistent between calls. */
function assertAnswer(dialect: DialectName, kind: Kind, got: Answer, where: string, stream = false): void {
  if (native(dialect, kind)) {
    assert.deepEqual(got, stream ? NATIVE_RESPONSES_STREAM : NATIVE_RESPONSES, `${where}: the upstream's answer and usage`);
  } else if (kind === 'mock') {
    assert.ok(got.text.length > 0, `${where}: text`);
    assert.ok(got.usage[0] > 0 && got.usage[1] > 0, `${where}: usage ${got.usage}`);
  } else {
    assert.equal(got.text, FAKE_TEXT, `${where}: text`);
    assert.deepEqual(got.usage, [FAKE_USAGE.input, FAKE_USAGE.output], `${where}: usage as the upstream reported it`);
  }
}

/** The recorded tool calls (fixtures): both for the OpenAI recording, get_weather for the Anthropic one; the mock calls the first tool. */
function assertCalls(kind: Kind, calls: Calls, where: string): void {
  const weather: Calls[number] = ['get_weather', { location: 'Oslo, Norway', unit: 'celsius' }];
  if (kind === 'mock') assert.deepEqual(calls.map(([name]) => name), ['get_weather'], where);
  else assert.deepEqual(calls, kind === 'anthropic' ? [weather] : [weather, ['get_time', { timezone: 'Europe/Oslo' }]], where);
}

/** Where each upstream API carries a JSON schema. */
const SCHEMA_AT: Record<string, (body: any) => unknown> = {
  '/v1/chat/completions': (body) => body.response_format?.json_schema?.schema,
  '/v1/messages': (body) => body.output_config?.format?.schema,
  '/v1/responses': (body) => body.text?.format?.schema,
};


for (const [name, dialect] of Object.entries(DIALECTS) as [DialectName, Dialect][]) {
  describe(`${name} client`, () => {
    for (const kind of KINDS) {
      const cell = `${name} → ${kind}`;
      test(`${cell}: plain text`, async () => assertAnswer(name, kind, await dialect.text(modelFor(name, kind, 'ok'), promptFor(cell)), cell));
      test(`${cell}: streaming, with usage`, async () => assertAnswer(name, kind, await dialect.stream(modelFor(name, kind, 'ok'), promptFor(cell)), cell, true));
      test(`${cell}: tool calls`, async () => {
        const prompt = promptFor(`${cell} Oslo`);
        const calls = await dialect.tools(modelFor(name, kind, 'tools'), prompt);
        if (native(name, kind)) {
          // Passthrough: the function tools reach the upstream's /v1/responses as the client wrote them.
          const sent = upstreamFor(prompt);
          assert.equal(sent?.path, '/v1/responses');
          assert.deepEqual(sent.body.tools.map((t: any) => [t.type, t.name, t.parameters]), [['function', 'get_weather', WEATHER_SCHEMA], ['function', 'get_time', TIME_SCHEMA]]);
        } else {
          assertCalls(kind, calls, cell);
        }
      });
      test(`${cell}: JSON schema output is enforced upstream or refused naming ${dialect.jsonField}, never dropped`, async () => {
        const prompt = promptFor(cell);
        let answer: string;
        try {
          answer = await dialect.json(modelFor(name, kind, 'ok'), prompt);
        } catch (err) {
          return dialect.assertRefused(err, dialect.jsonField, cell);
        }
        assert.notEqual(kind, 'mock', `${cell}: the mock cannot fit a schema, so it must refuse`);
        assert.ok(answer, `${cell}: an answer`);
        const sent = upstreamFor(prompt);
        assert.ok(sent, `${cell}: the upstream was called`);
        assert.deepEqual(SCHEMA_AT[sent.path]?.(sent.body), ANSWER_SCHEMA, `${cell}: the schema reached ${sent.path}`);
      });
    }
  });
}

/** Features the target cannot honour (docs/translation.md), on the provider kinds that translate them. */
const STATELESS: Kind[] = ['anthropic', 'compat', 'mock'];
const REFUSALS: { dialect: DialectName; kinds: Kind[]; feature: string; extra: Record<string, unknown>; param: string }[] = [
  { dialect: 'responses', kinds: STATELESS, feature: 'previous_response_id', extra: { previous_response_id: 'resp_abc123' }, param: 'previous_response_id' },
  { dialect: 'responses', kinds: STATELESS, feature: 'store: true', extra: { store: true }, param: 'store' },
  { dialect: 'responses', kinds: STATELESS, feature: 'a built-in web search tool', extra: { tools: [{ type: 'web_search' }] }, param: 'tools[0].type' },
  { dialect: 'responses', kinds: STATELESS, feature: 'an item reference to a stored output', extra: { input: [{ type: 'item_reference', id: 'msg_abc123' }] }, param: 'input[0].type' },
  { dialect: 'chat', kinds: ['anthropic'], feature: 'log probabilities', extra: { logprobs: true }, param: 'logprobs' },
  { dialect: 'chat', kinds: ['anthropic'], feature: 'a seed', extra: { seed: 7 }, param: 'seed' },
  { dialect: 'messages', kinds: ['openai', 'compat'], feature: 'extended thinking', extra: { max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 } }, param: 'thinking' },
  { dialect: 'messages', kinds: ['openai', 'compat'], feature: 'cache_control marks', extra: { system: [{ type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }] }, param: 'cache_control' },
];

describe('refused features', () => {
  for (const { dialect, kinds, feature, extra, param } of REFUSALS) {
    for (const kind of kinds) {
      test(`${dialect} → ${kind}: ${feature} is refused with a 400 naming ${param}`, async () => {
        const prompt = promptFor(`${dialect} ${kind} ${feature}`);
        const client = DIALECTS[dialect];
        const err = await client.send(`${kind}-ok`, prompt, extra).then(() => undefined, (e: unknown) => e);
        client.assertRefused(err, param, `${dialect} → ${kind}`);
        assert.equal(upstreamFor(prompt), undefined, 'nothing was sent upstream');
      });
    }
  }
});
