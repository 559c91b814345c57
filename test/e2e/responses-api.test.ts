// POST /v1/responses with the official `openai` SDK: passed through byte for byte to an upstream serving the
// Responses API (fixtures/openai/responses.*), translated to Anthropic (text and a function call round trip)
// and to the mock; each refused feature's 400 in OpenAI's error shape; the usage record and the api metric.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FAKE_TEXT, FAKE_USAGE, fixtureModel, readFixture, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRow } from '../helpers/ledger.ts';
import { total } from '../helpers/scrape.ts';
import { CLIENT_KEY, rejectsAs } from '../helpers/stack.ts';

let fake: FakeUpstream;
let gateway: Gateway;
let client: OpenAI;
let dataDir: string;

before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-responses-'));
  gateway = await startGateway({
    providers: {
      mock: { kind: 'mock' },
      native: { kind: 'openai', base_url: `${fake.url}/v1`, api_key: 'sk-upstream-test' },
      compat: { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: 'sk-upstream-test' },
      claude: { kind: 'anthropic', base_url: fake.url, api_key: 'sk-ant-upstream-test' },
    },
    models: [
      { name: 'gpt-native', provider: 'native', upstream_model: fixtureModel('openai', 'responses') },
      { name: 'claude-ok', provider: 'claude', upstream_model: 'ok' },
      { name: 'claude-tool', provider: 'claude', upstream_model: fixtureModel('anthropic', 'messages-tool-use') },
      { name: 'compat-ok', provider: 'compat', upstream_model: 'ok' },
      { name: 'mock-chat', provider: 'mock' },
    ],
  }, { VIGIL_DATA_DIR: dataDir });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('native: create passes the upstream answer through byte for byte, with only model replaced; usage recorded exactly', async () => {
  const { data, response } = await client.responses.create({ model: 'gpt-native', input: 'native one', instructions: 'Be terse.' }).withResponse();
  assert.equal(data.output_text, 'The capital of Norway is Oslo.');
  const sent = fake.requestsFor(fixtureModel('openai', 'responses'), '/v1/responses').find((r) => r.body.input === 'native one');
  assert.ok(sent, 'the gateway called /v1/responses upstream');
  assert.deepEqual(sent.body, { model: fixtureModel('openai', 'responses'), input: 'native one', instructions: 'Be terse.' });

  const raw = await fetch(`${gateway.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-native', input: 'raw' }) });
  assert.deepEqual(Buffer.from(await raw.arrayBuffer()), readFixture('openai', 'responses', false));

  const row = await ledgerRow(dataDir, response.headers.get('x-request-id')!);
  assert.deepEqual([row.route, row.model, row.input_tokens, row.output_tokens, row.cached_input_tokens, row.stream], ['/v1/responses', 'gpt-native', 1342, 8, 1280, 0]);
});

test('native: stream relays the upstream events byte for byte; the SDK sees them in order and a well-formed final response', async () => {
  const raw = await fetch(`${gateway.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-native', input: 'raw', stream: true }) });
  assert.equal(await raw.text(), readFixture('openai', 'responses', true).toString('utf8'));

  const stream = client.responses.stream({ model: 'gpt-native', input: 'native stream', tools: [{ type: 'function', name: 'get_weather', parameters: {}, strict: false }] });
  const types: string[] = [];
  const sequence: number[] = [];
  for await (const event of stream) {
    types.push(event.type);
    sequence.push(event.sequence_number);
  }
  const final = await stream.finalResponse();
  assert.deepEqual(sequence, sequence.map((_, i) => i));
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(final.output_text, 'Let me check the weather in Oslo.');
  const call = final.output.find((item) => item.type === 'function_call');
  assert.deepEqual(call && [call.name, call.arguments, call.call_id], ['get_weather', '{"location":"Oslo, Norway"}', 'call_Xk3pQ9vR2mT7bN1sLw8yD4eH']);
  assert.deepEqual(final.usage && [final.usage.input_tokens, final.usage.input_tokens_details.cached_tokens, final.usage.output_tokens], [214, 128, 31]);
});

test('anthropic: create translated from Messages, usage exact and recorded', async () => {
  const { data, response } = await client.responses.create({ model: 'claude-ok', input: 'to claude', instructions: 'Be terse.', max_output_tokens: 40 }).withResponse();
  assert.equal(data.object, 'response');
  assert.equal(data.status, 'completed');
  assert.match(data.id, /^resp_/);
  assert.equal(data.output_text, FAKE_TEXT);
  assert.match(data.output[0].id!, /^msg_/);
  assert.deepEqual(data.usage && [data.usage.input_tokens, data.usage.output_tokens, data.usage.total_tokens], [FAKE_USAGE.input, FAKE_USAGE.output, FAKE_USAGE.input + FAKE_USAGE.output]);
  const sent = fake.requests.find((r) => r.path === '/v1/messages' && JSON.stringify(r.body.messages).includes('to claude'));
  assert.ok(sent);
  assert.equal(JSON.stringify(sent.body.system).includes('Be terse.'), true);
  assert.equal(sent.body.max_tokens, 40);
  const row = await ledgerRow(dataDir, response.headers.get('x-request-id')!);
  assert.deepEqual([row.provider, row.input_tokens, row.output_tokens], ['claude', FAKE_USAGE.input, FAKE_USAGE.output]);
});

test('anthropic: a function call round trip, whole and streamed', async () => {
  const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } }, strict: false }];
  const first = await client.responses.create({ model: 'claude-tool', input: 'weather in Oslo?', tools });
  const call = first.output.find((item) => item.type === 'function_call');
  assert.ok(call && call.type === 'function_call');
  assert.match(call.id!, /^fc_/);
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { location: 'Oslo, Norway', unit: 'celsius' });
  assert.deepEqual(first.usage && [first.usage.input_tokens, first.usage.input_tokens_details.cached_tokens, first.usage.output_tokens], [42 + 256 + 1800, 1800, 71]);

  await client.responses.create({
    model: 'claude-ok', tools,
    input: [
      { role: 'user', content: 'weather in Oslo?' },
      { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: '{"celsius":4}' },
    ],
  });
  const sent = fake.requests.find((r) => r.path === '/v1/messages' && JSON.stringify(r.body.messages).includes('celsius\\":4'));
  assert.ok(sent, 'the tool result went upstream');
  assert.deepEqual(sent.body.messages.map((m: any) => [m.role, m.content.map((b: any) => b.type)]), [
    ['user', ['text']], ['assistant', ['tool_use']], ['user', ['tool_result']],
  ]);
  assert.equal(sent.body.messages[1].content[0].id, sent.body.messages[2].content[0].tool_use_id);

  const stream = client.responses.stream({ model: 'claude-tool', input: 'weather in Oslo?', tools });
  const types: string[] = [];
  for await (const event of stream) types.push(event.type);
  const final = await stream.finalResponse();
  assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
  assert.ok(types.indexOf('response.function_call_arguments.delta') > types.indexOf('response.output_item.added'));
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(final.output_text, "I'll check the current weather in Oslo for you.");
  const streamedCall = final.output.find((item) => item.type === 'function_call');
  assert.deepEqual(streamedCall && JSON.parse(streamedCall.arguments), { location: 'Oslo, Norway', unit: 'celsius' });
  assert.deepEqual(final.usage && [final.usage.input_tokens, final.usage.output_tokens], [42 + 256 + 1800, 71]);
});

test('mock and openai-compatible: translated through chat, whole and streamed', async () => {
  const mock = await client.responses.create({ model: 'mock-chat', input: 'hello mock' });
  assert.ok(mock.output_text.length > 0);
  assert.ok(mock.usage && mock.usage.total_tokens === mock.usage.input_tokens + mock.usage.output_tokens);
  const stream = client.responses.stream({ model: 'mock-chat', input: 'hello mock' });
  let deltas = '';
  for await (const event of stream) if (event.type === 'response.output_text.delta') deltas += event.delta;
  assert.equal((await stream.finalResponse()).output_text, deltas);

  const compat = await client.responses.create({ model: 'compat-ok', input: 'to compat', text: { format: { type: 'json_schema', name: 'a', schema: { type: 'object' } } } });
  assert.equal(compat.output_text, FAKE_TEXT);
  const sent = fake.requests.find((r) => r.path === '/v1/chat/completions' && JSON.stringify(r.body.messages).includes('to compat'));
  assert.deepEqual(sent?.body.response_format, { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object' } } });
});

test('refused features: 400 GW_REQUEST_UNSUPPORTED in OpenAI\'s error shape naming the param; nothing sent upstream', async () => {
  const before = fake.requests.length;
  const cases: [Record<string, unknown>, string][] = [
    [{ model: 'claude-ok', input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ model: 'claude-ok', input: 'x', store: true }, 'store'],
    [{ model: 'compat-ok', input: 'x', tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [{ model: 'claude-ok', input: 'x', reasoning: { effort: 'high' } }, 'reasoning'],
    [{ model: 'claude-ok', input: 'x', text: { format: { type: 'json_schema', name: 'a', schema: {} } } }, 'text.format'],
  ];
  for (const [body, param] of cases) {
    const err = await rejectsAs(client.responses.create(body as any), OpenAI.APIError);
    assert.equal(err.status, 400, param);
    assert.equal(err.code, 'GW_REQUEST_UNSUPPORTED', param);
    assert.equal(err.param, param);
  }
  assert.equal(fake.requests.length, before);
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.ok(total(metrics, 'vigil_api_requests_total', { api: 'responses' }) >= 6 + cases.length);
});
