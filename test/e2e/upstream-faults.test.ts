// Upstream faults outside the stream body, through both official SDKs: rate-limit hints reaching the client
// (Retry-After as an HTTP date, retry-after-ms, x-ratelimit-*), the gateway's provider key scrubbed from an
// upstream message that echoes it, a full connection queue answered fast with a retryable 503, and a model
// whose provider has no credentials answering an error the SDKs do not retry while transient ones still are.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { FAKE_RATE_LIMIT_HEADERS, SLOW_HEADERS_MS, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { assertNoSecret } from '../helpers/errors.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRow, ledgerRows } from '../helpers/ledger.ts';
import { total } from '../helpers/scrape.ts';
import { CLIENT_KEY, UPSTREAM_OPENAI_KEY, claude, e2eConfig, oai, rejectsAs, userMessage } from '../helpers/stack.ts';

const QUEUE_TIMEOUT_MS = 400;

let fake: FakeUpstream;
/** The narrow provider's own upstream: pools are per origin, so it must not share the others' pool. */
let narrowFake: FakeUpstream;
let gateway: Gateway;
let dataDir: string;

before(async () => {
  fake = await startFakeUpstream();
  narrowFake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-upstream-faults-'));
  const config = e2eConfig(fake.url, { upstream: { queue_limit: 1, queue_timeout_ms: QUEUE_TIMEOUT_MS } });
  config.store = { flush_interval_ms: 50 };
  // One connection: a slow answer (slow-headers, SLOW_HEADERS_MS) holds it, the next call waits, the one after
  // finds the queue (queue_limit 1) full.
  config.providers.narrow = { kind: 'openai-compatible', base_url: `${narrowFake.url}/v1`, api_key: UPSTREAM_OPENAI_KEY, connections: 1 };
  config.providers.keyless = { kind: 'openai', api_key: 'env:VIGIL_UPSTREAM_FAULTS_UNSET_KEY' };
  config.models.push({ name: 'narrow-slow', provider: 'narrow', upstream_model: 'slow-headers' }, { name: 'keyless-chat', provider: 'keyless' });
  gateway = await startGateway(config, { VIGIL_DATA_DIR: dataDir });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  await narrowFake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** SDK clients that count the HTTP attempts they make (retries included). */
function clients(maxRetries: number) {
  const attempts = { count: 0 };
  const counting: typeof fetch = (url, init) => { attempts.count++; return fetch(url, init); };
  return {
    attempts,
    openai: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries, fetch: counting }),
    anthropic: new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries, fetch: counting }),
  };
}

const scrape = async () => (await fetch(`${gateway.url}/metrics`)).text();

test('upstream 429 with Retry-After as an HTTP date, retry-after-ms and x-ratelimit-*: every hint reaches both SDKs', async () => {
  const { openai, anthropic } = clients(0);
  const errors = [
    await rejectsAs(openai.chat.completions.create({ model: oai('fail-429-date'), messages: userMessage('hint') }), OpenAI.RateLimitError),
    await rejectsAs(anthropic.messages.create({ model: oai('fail-429-date'), max_tokens: 8, messages: userMessage('hint') }), Anthropic.RateLimitError),
    await rejectsAs(openai.chat.completions.create({ model: claude('fail-429-date'), messages: userMessage('hint'), stream: true }), OpenAI.RateLimitError),
    await rejectsAs(anthropic.messages.stream({ model: claude('fail-429-date'), max_tokens: 8, messages: userMessage('hint') }).finalMessage(), Anthropic.RateLimitError),
  ];
  for (const err of errors) {
    const seconds = Number(err.headers.get('retry-after'));
    assert.ok(seconds >= 28 && seconds <= 30, `the date 30 s ahead became ${err.headers.get('retry-after')} seconds`);
    for (const [name, value] of Object.entries(FAKE_RATE_LIMIT_HEADERS)) assert.equal(err.headers.get(name), value, name);
    assert.equal(err.headers.get('x-should-retry'), 'true');
  }
});

test("an upstream 4xx message echoing the request headers: the gateway's provider key is redacted for the client, the log and the ledger", async () => {
  const { openai, anthropic } = clients(0);
  const marker = 'echo-openai';
  const viaOpenAI = await rejectsAs(openai.chat.completions.create({ model: oai('fail-400-echo'), messages: userMessage('echo') }, { headers: { 'x-request-id': marker } }), OpenAI.BadRequestError);
  const viaAnthropic = await rejectsAs(anthropic.messages.create({ model: oai('fail-400-echo'), max_tokens: 8, messages: userMessage('echo') }), Anthropic.BadRequestError);
  for (const err of [viaOpenAI, viaAnthropic]) {
    assert.ok(err.message.includes('Bearer [redacted]') && err.message.includes('content-type'), `the rest of the message is kept: ${err.message}`);
    assertNoSecret(err.message, 'the relayed message');
    assertNoSecret(JSON.stringify(err.error), 'the relayed error body');
  }
  const sent = fake.requestsFor('fail-400-echo')[0];
  assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_OPENAI_KEY}`, 'the fake did see (and echo) the key');
  await ledgerRow(dataDir, marker);
  await gateway.waitForLog((r) => r.request_id === marker);
  for (const line of gateway.logs()) assertNoSecret(line, 'a log line');
  assertNoSecret(gateway.stderr(), 'stderr');
  assertNoSecret(JSON.stringify(ledgerRows(dataDir)), 'the usage ledger');
});

test('connections busy: past upstream.queue_limit a call answers 503 at once, a waiting call at queue_timeout_ms; both retryable', async () => {
  const { openai } = clients(0);
  const before = await scrape();
  const holder = openai.chat.completions.create({ model: 'narrow-slow', messages: userMessage('holds the connection') });
  await narrowFake.waitFor((r) => r.body?.messages?.[0]?.content === 'holds the connection');
  const waitingSince = Date.now();
  const waiting = rejectsAs(openai.chat.completions.create({ model: 'narrow-slow', messages: userMessage('waits') }, { headers: { 'x-request-id': 'queue-waits' } }), OpenAI.InternalServerError);
  await new Promise((resolve) => setTimeout(resolve, 50));

  const fullSince = Date.now();
  const full = await rejectsAs(openai.chat.completions.create({ model: 'narrow-slow', messages: userMessage('finds it full') }, { headers: { 'x-request-id': 'queue-full' } }), OpenAI.InternalServerError);
  assert.ok(Date.now() - fullSince < 200, `queue full answered after ${Date.now() - fullSince} ms`);
  const timedOut = await waiting;
  const waited = Date.now() - waitingSince;
  assert.ok(waited >= QUEUE_TIMEOUT_MS - 20 && waited < SLOW_HEADERS_MS - 1000, `the waiting call answered after ${waited} ms, long before a connection freed`);

  for (const [err, detail] of [[full, /1 requests already waiting/], [timedOut, new RegExp(`no connection within ${QUEUE_TIMEOUT_MS} ms`)]] as const) {
    assert.equal(err.status, 503);
    assert.equal(err.code, 'GW_UPSTREAM_QUEUE_FULL');
    assert.equal(err.type, 'service_unavailable');
    assert.match(err.message, detail);
    assert.equal(err.headers.get('retry-after'), '1');
    assert.equal(err.headers.get('x-should-retry'), 'true');
  }
  assert.equal(narrowFake.requests.length, 1, 'neither reached the upstream');
  assert.equal((await holder).object, 'chat.completion', 'the call holding the connection finishes normally');

  const after = await scrape();
  const delta = (name: string, labels: Record<string, string>) => total(after, name, labels) - total(before, name, labels);
  assert.equal(delta('vigil_llm_call_errors_total', { provider: 'narrow', error_class: 'unavailable' }), 2);
  assert.ok(total(after, 'vigil_sli_availability_ratio') < 1, 'gateway-side failures lower availability');
  for (const id of ['queue-full', 'queue-waits']) {
    const row = await ledgerRow(dataDir, id);
    assert.deepEqual([row.provider, row.status, row.error_class], ['narrow', 503, 'unavailable']);
  }
});

test('a provider without credentials answers 500 with x-should-retry: false, which neither SDK retries; a transient 502 they still retry', async () => {
  const { attempts, openai, anthropic } = clients(1);
  const viaOpenAI = await rejectsAs(openai.chat.completions.create({ model: 'keyless-chat', messages: userMessage('no key') }), OpenAI.InternalServerError);
  assert.equal(attempts.count, 1, 'the openai SDK did not retry');
  assert.deepEqual([viaOpenAI.status, viaOpenAI.code, viaOpenAI.type], [500, 'GW_PROVIDER_UNAVAILABLE', 'server_error']);
  assert.equal(viaOpenAI.headers.get('x-should-retry'), 'false');

  const viaAnthropic = await rejectsAs(anthropic.messages.create({ model: 'keyless-chat', max_tokens: 8, messages: userMessage('no key') }), Anthropic.InternalServerError);
  assert.equal(attempts.count, 2, 'the Anthropic SDK did not retry');
  assert.equal(viaAnthropic.status, 500);
  assert.equal((viaAnthropic.error as any).error.type, 'api_error', 'not overloaded_error: nothing is overloaded');

  attempts.count = 0;
  await rejectsAs(openai.chat.completions.create({ model: oai('fail-500'), messages: userMessage('transient') }), OpenAI.InternalServerError);
  assert.equal(attempts.count, 2, 'the openai SDK retried the transient failure');
  await rejectsAs(anthropic.messages.create({ model: oai('fail-500'), max_tokens: 8, messages: userMessage('transient') }), Anthropic.InternalServerError);
  assert.equal(attempts.count, 4, 'the Anthropic SDK retried the transient failure');
});
