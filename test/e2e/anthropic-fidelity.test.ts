// Same-dialect fidelity with the official Anthropic SDK: messages.stream and messages.create through the
// gateway to an Anthropic upstream replaying fixtures/anthropic/messages-thinking-cache (signed thinking,
// redacted thinking, cache reads and writes). Every event arrives in order and byte-identical, cache_control
// and the anthropic-* headers reach the upstream untouched, and the usage is exact in the ledger and the
// metrics (input normalised: 14 + 2,048 read + 1,024 written). A refused translation is counted by field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { fixtureModel, readFixture, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRow } from '../helpers/ledger.ts';
import { total } from '../helpers/scrape.ts';

const UPSTREAM = fixtureModel('anthropic', 'messages-thinking-cache');
const MODEL = 'claude-fidelity';
const BETA = 'interleaved-thinking-2025-05-14,prompt-caching-2024-07-31';
const VERSION = '2023-06-01';
const USAGE = { input: 14, read: 2048, written: 1024, output: 187 };

let fake: FakeUpstream;
let gateway: Gateway;
let dataDir: string;
let client: Anthropic;

before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-fidelity-'));
  gateway = await startGateway({
    providers: {
      'fake-anthropic': { kind: 'anthropic', base_url: fake.url, api_key: 'sk-ant-upstream' },
      'fake-openai': { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: 'sk-upstream' },
    },
    models: [
      { name: MODEL, provider: 'fake-anthropic', upstream_model: UPSTREAM },
      { name: 'gpt-behind', provider: 'fake-openai', upstream_model: 'ok' },
    ],
    store: { flush_interval_ms: 50 },
  }, { VIGIL_DATA_DIR: dataDir });
  client = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-client', maxRetries: 0, timeout: 20_000 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A request as Claude Code sends one: a cached system prompt and tool, a cached turn, thinking on. */
const params = {
  model: MODEL,
  max_tokens: 2048,
  thinking: { type: 'enabled' as const, budget_tokens: 1024 },
  system: [{ type: 'text' as const, text: 'You are a careful calculator.', cache_control: { type: 'ephemeral' as const } }],
  tools: [{ name: 'calc', description: 'Arithmetic', input_schema: { type: 'object' as const, properties: {} }, cache_control: { type: 'ephemeral' as const, ttl: '1h' as const } }],
  messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'What is 27 × 453?', cache_control: { type: 'ephemeral' as const } }] }],
};
const options = (requestId: string) => ({ headers: { 'anthropic-beta': BETA, 'anthropic-version': VERSION, 'x-request-id': requestId } });

/** The fixture's events' data, in order (its `:` header lines are SSE comments). */
const fixtureEvents = () => readFixture('anthropic', 'messages-thinking-cache', true).toString('utf8').split('\n')
  .filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice('data: '.length)));
const scrape = async () => (await fetch(`${gateway.url}/metrics`)).text();
const tokens = (body: string, type: string) => total(body, 'vigil_llm_tokens_total', { provider: 'fake-anthropic', model: MODEL, type });

/** The one upstream request since `from`: cache_control everywhere as sent, the anthropic-* headers forwarded. */
function assertForwarded(from: number, count = 1): void {
  const sent = fake.requests.slice(from);
  assert.equal(sent.length, count);
  for (const upstream of sent) assertOne(upstream);
}

function assertOne(upstream: FakeUpstream['requests'][number]): void {
  assert.equal(upstream.headers['anthropic-beta'], BETA);
  assert.equal(upstream.headers['anthropic-version'], VERSION);
  assert.equal(upstream.body.model, UPSTREAM);
  const { model: _m, stream: _s, ...rest } = upstream.body as Record<string, unknown>;
  const { model: _pm, ...asked } = params;
  assert.deepEqual(rest, asked, 'cache_control and thinking untouched');
}

/** The ledger row of `requestId`; the token metrics moved by `calls` such answers. */
async function assertUsage(requestId: string, before: string, calls = 1): Promise<void> {
  const row = await ledgerRow(dataDir, requestId);
  const input = USAGE.input + USAGE.read + USAGE.written;
  assert.deepEqual([row.input_tokens, row.cached_input_tokens, row.output_tokens], [input, USAGE.read, USAGE.output], 'the ledger');
  const after = await scrape();
  const delta = (type: string) => tokens(after, type) - tokens(before, type);
  assert.deepEqual(
    [delta('input'), delta('cached_input'), delta('cache_write'), delta('output')],
    [input, USAGE.read, USAGE.written, USAGE.output].map((n) => n * calls), 'vigil_llm_tokens_total',
  );
}

test('messages.stream: every event in order and byte-identical, signatures intact, usage exact', async () => {
  const before = await scrape();
  const from = fake.requests.length;
  // Raw events (messages.stream's own accumulate into the message_start object they hand out).
  const events: unknown[] = [];
  for await (const event of await client.messages.create({ ...params, stream: true }, options('fid-stream'))) events.push(event);
  // The SDK itself hands no ping to its caller.
  assert.deepEqual(events, fixtureEvents().filter((e) => e.type !== 'ping'), 'the same events, in order');
  const message = await client.messages.stream(params, options('fid-stream-2')).finalMessage();
  const fixture = JSON.parse(readFixture('anthropic', 'messages-thinking-cache', false).toString('utf8'));
  assert.deepEqual(message.content, fixture.content, 'thinking with its signature, redacted thinking, text');
  assertForwarded(from, 2);
  await assertUsage('fid-stream', before, 2);
});

test('messages.create: the answer byte-identical, usage exact', async () => {
  const before = await scrape();
  const from = fake.requests.length;
  const message = await client.messages.create(params, options('fid-json'));
  const bytes = readFixture('anthropic', 'messages-thinking-cache', false).toString('utf8');
  assert.deepEqual(message, JSON.parse(bytes));
  assertForwarded(from);
  await assertUsage('fid-json', before);
  const raw = await fetch(`${gateway.url}/v1/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': VERSION }, body: JSON.stringify(params),
  });
  assert.equal(await raw.text(), bytes, 'the bytes as the upstream sent them');
});

test('thinking toward an OpenAI-dialect provider: 400 naming it, counted by field, nothing sent upstream', async () => {
  const before = await scrape();
  const sentBefore = fake.requests.length;
  const error = await client.messages.create({ ...params, model: 'gpt-behind' }).then(() => undefined, (err: unknown) => err);
  assert.ok(error instanceof Anthropic.BadRequestError, String(error));
  assert.match(error.message, /thinking/);
  assert.equal(fake.requests.length, sentBefore);
  const refused = (body: string) => total(body, 'vigil_translation_refusals_total', { field: 'thinking' });
  assert.equal(refused(await scrape()) - refused(before), 1);
});
