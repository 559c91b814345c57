// The exact-match response cache end to end, with the official SDKs against a running gateway and a fake
// upstream that records every request: a repeated request is answered from the cache (header, one upstream
// call, the same answer, one usage record marked cached at zero cost, the lookup metric); Cache-Control is
// honoured; streams are never cached; a different body misses; entries expire; and with
// routing.cache.store: redis a second gateway hits what the first stored.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { FAKE_TEXT, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRow } from '../helpers/ledger.ts';
import { deletePrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-keys.ts';
import { total } from '../helpers/scrape.ts';

const PRICING = { input_per_mtok: 1, output_per_mtok: 2 };

function cacheConfig(fakeUrl: string, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    providers: {
      'fake-openai': { kind: 'openai-compatible', base_url: `${fakeUrl}/v1`, api_key: 'sk-upstream-test' },
      'fake-anthropic': { kind: 'anthropic', base_url: fakeUrl, api_key: 'sk-ant-upstream-test' },
    },
    models: [
      { name: 'gpt-cached', provider: 'fake-openai', upstream_model: 'ok', pricing: PRICING, cache: { enabled: true, ttl_seconds: 300 } },
      { name: 'claude-cached', provider: 'fake-anthropic', upstream_model: 'ok', pricing: PRICING, cache: { enabled: true } },
      { name: 'gpt-brief', provider: 'fake-openai', upstream_model: 'ok', pricing: PRICING, cache: { enabled: true, ttl_seconds: 1 } },
      { name: 'gpt-plain', provider: 'fake-openai', upstream_model: 'ok', pricing: PRICING },
    ],
    ...extra,
  };
}

const clients = (gateway: Gateway) => ({
  openai: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0, timeout: 15_000 }),
  anthropic: new Anthropic({ baseURL: gateway.url, apiKey: 'sk-client', maxRetries: 0, timeout: 15_000 }),
});

/** Requests the upstream saw whose messages carry `tag`: each test asks its own question. */
const upstreamCalls = (fake: FakeUpstream, tag: string) => fake.requests.filter((r) => JSON.stringify(r.body?.messages ?? '').includes(tag)).length;

const ask = (tag: string) => [{ role: 'user' as const, content: `question ${tag}` }];

let fake: FakeUpstream;
let gateway: Gateway;
let dataDir: string;
let sdk: ReturnType<typeof clients>;
before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-rcache-'));
  gateway = await startGateway(cacheConfig(fake.url), { VIGIL_DATA_DIR: dataDir });
  sdk = clients(gateway);
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const chat = (model: string, tag: string, headers: Record<string, string> = {}, client = sdk.openai) =>
  client.chat.completions.create({ model, messages: ask(tag) }, { headers }).withResponse();

test('openai: the second identical request is a hit: same answer, one upstream call, a cached usage record at zero cost, the hit counted', async () => {
  const first = await chat('gpt-cached', 'one');
  const second = await chat('gpt-cached', 'one');
  assert.equal(first.response.headers.get('x-vigil-cache'), 'miss');
  assert.equal(second.response.headers.get('x-vigil-cache'), 'hit');
  assert.equal(second.response.headers.get('content-type'), 'application/json');
  assert.equal(second.response.status, 200);
  assert.deepEqual(second.data, first.data, 'the SDK gets the same answer');
  assert.equal(second.data.choices[0].message.content, FAKE_TEXT);
  assert.equal(upstreamCalls(fake, 'question one'), 1, 'the upstream saw one request');

  const billed = await ledgerRow(dataDir, first.response.headers.get('x-request-id')!);
  const cached = await ledgerRow(dataDir, second.response.headers.get('x-request-id')!);
  assert.equal(billed.cached, 0);
  assert.ok(billed.cost_usd > 0);
  assert.deepEqual(
    [cached.cached, cached.cost_usd, cached.provider, cached.model, cached.upstream_model, cached.input_tokens, cached.output_tokens, cached.status],
    [1, 0, 'fake-openai', 'gpt-cached', 'ok', billed.input_tokens, billed.output_tokens, 200],
  );

  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.equal(total(metrics, 'vigil_cache_lookups_total', { model: 'gpt-cached', result: 'hit' }), 1);
  assert.equal(total(metrics, 'vigil_cache_lookups_total', { model: 'gpt-cached', result: 'miss' }), 1);
  assert.equal(total(metrics, 'vigil_llm_calls_total', { model: 'gpt-cached' }), 1, 'no LLM call for the hit');
});

test('anthropic: the Messages API is cached in its own dialect', async () => {
  const messages = ask('anthropic');
  const first = await sdk.anthropic.messages.create({ model: 'claude-cached', max_tokens: 50, messages }).withResponse();
  const second = await sdk.anthropic.messages.create({ model: 'claude-cached', max_tokens: 50, messages }).withResponse();
  assert.deepEqual([first.response.headers.get('x-vigil-cache'), second.response.headers.get('x-vigil-cache')], ['miss', 'hit']);
  assert.deepEqual(second.data, first.data);
  assert.equal(second.data.type, 'message');
  assert.equal(upstreamCalls(fake, 'question anthropic'), 1);
  const cached = await ledgerRow(dataDir, second.response.headers.get('request-id')!);
  assert.deepEqual([cached.cached, cached.cost_usd, cached.provider], [1, 0, 'fake-anthropic']);
});

test('Cache-Control: no-cache goes upstream and stores; no-store goes upstream and stores nothing', async () => {
  const fresh = await chat('gpt-cached', 'nocache', { 'cache-control': 'no-cache' });
  assert.equal(fresh.response.headers.get('x-vigil-cache'), 'bypass');
  assert.equal((await chat('gpt-cached', 'nocache')).response.headers.get('x-vigil-cache'), 'hit', 'no-cache stored its answer');
  assert.equal((await chat('gpt-cached', 'nocache', { 'cache-control': 'no-cache' })).response.headers.get('x-vigil-cache'), 'bypass');
  assert.equal(upstreamCalls(fake, 'question nocache'), 2, 'each no-cache request went upstream');

  const unstored = await chat('gpt-cached', 'nostore', { 'cache-control': 'no-store' });
  assert.equal(unstored.response.headers.get('x-vigil-cache'), 'bypass');
  assert.equal((await chat('gpt-cached', 'nostore')).response.headers.get('x-vigil-cache'), 'miss', 'no-store stored nothing');
  assert.equal(upstreamCalls(fake, 'question nostore'), 2);
});

test('streams are never cached; a different body misses; an alias without cache says nothing', async () => {
  for (let i = 0; i < 2; i++) {
    const { data: stream, response } = await sdk.openai.chat.completions.create({ model: 'gpt-cached', messages: ask('stream'), stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, FAKE_TEXT);
    assert.equal(response.headers.get('x-vigil-cache'), null);
  }
  assert.equal(upstreamCalls(fake, 'question stream'), 2);

  await chat('gpt-cached', 'body-a');
  const other = await chat('gpt-cached', 'body-b');
  assert.equal(other.response.headers.get('x-vigil-cache'), 'miss');
  assert.equal(upstreamCalls(fake, 'question body-'), 2);

  const plain = [await chat('gpt-plain', 'plain'), await chat('gpt-plain', 'plain')];
  assert.deepEqual(plain.map((p) => p.response.headers.get('x-vigil-cache')), [null, null]);
  assert.equal(upstreamCalls(fake, 'question plain'), 2);
});

test('an entry expires after its ttl_seconds', async () => {
  assert.equal((await chat('gpt-brief', 'ttl')).response.headers.get('x-vigil-cache'), 'miss');
  // Bounded poll: once the 1 s TTL has passed, the same request misses again.
  let again = '';
  for (let i = 0; i < 60 && again !== 'miss'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    again = (await chat('gpt-brief', 'ttl')).response.headers.get('x-vigil-cache') ?? '';
  }
  assert.equal(again, 'miss', 'the entry expired');
  assert.equal(upstreamCalls(fake, 'question ttl'), 2, 'one call to store it, one after it expired');
});

test('routing.cache.store: redis: a second gateway hits what the first stored', async (t) => {
  const prefix = uniquePrefix();
  const shared = cacheConfig(fake.url, { redis: { url: SHARED_REDIS_URL, key_prefix: prefix }, routing: { cache: { store: 'redis' } } });
  const dirs = [await mkdtemp(join(tmpdir(), 'vigil-rcache-a-')), await mkdtemp(join(tmpdir(), 'vigil-rcache-b-'))];
  t.after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    await deletePrefix(prefix);
  });
  const [a, b] = await Promise.all(dirs.map((dir) => startGateway(shared, { VIGIL_DATA_DIR: dir })));
  t.after(() => Promise.all([a.stop(), b.stop()]));

  const first = await chat('gpt-cached', 'shared', {}, clients(a).openai);
  const second = await chat('gpt-cached', 'shared', {}, clients(b).openai);
  assert.deepEqual([first.response.headers.get('x-vigil-cache'), second.response.headers.get('x-vigil-cache')], ['miss', 'hit']);
  assert.deepEqual(second.data, first.data);
  assert.equal(upstreamCalls(fake, 'question shared'), 1);
  const cached = await ledgerRow(dirs[1], second.response.headers.get('x-request-id')!);
  assert.deepEqual([cached.cached, cached.cost_usd, cached.provider], [1, 0, 'fake-openai']);
});
