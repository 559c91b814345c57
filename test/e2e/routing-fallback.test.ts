// Routing through the official SDKs against a running gateway and the fake upstream: an alias whose first
// deployment fails (5xx) answers from the next one, streams included (the failure came before the first
// byte); an alias whose deployments all fail falls back to another alias; an alias whose deployments' breakers
// are all open answers a fast 503 GW_NO_DEPLOYMENT_AVAILABLE with Retry-After, in each SDK's error type.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { FAKE_TEXT, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { total } from '../helpers/scrape.ts';
import { CLIENT_KEY, e2eConfig, rejectsAs, userMessage } from '../helpers/stack.ts';

const COOLDOWN_MS = 60_000;

let fake: FakeUpstream;
let gateway: Gateway;
let dataDir: string;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-routing-'));
  const config = e2eConfig(fake.url);
  const failing = (id: string, provider: string) => ({ id, provider, upstream_model: 'fail-500' });
  config.models.push(
    // Priority order: the OpenAI-compatible deployment fails, the Anthropic one answers.
    { name: 'primary', deployments: [{ ...failing('primary-a', 'fake-openai'), priority: 0 }, { id: 'primary-b', provider: 'fake-anthropic', upstream_model: 'ok', priority: 1 }] },
    { name: 'chain', deployments: [failing('chain-a', 'fake-openai'), failing('chain-b', 'fake-anthropic')], fallbacks: ['backup'] },
    { name: 'backup', deployments: [{ id: 'backup-a', provider: 'fake-openai', upstream_model: 'ok' }] },
    { name: 'broken', deployments: [failing('broken-a', 'fake-openai'), failing('broken-b', 'fake-anthropic')], breaker: { consecutive_failures: 1, cooldown_ms: COOLDOWN_MS } },
  );
  config.routing = { breaker: { consecutive_failures: 100 } };
  gateway = await startGateway(config, { VIGIL_DATA_DIR: dataDir });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const scrape = async () => (await fetch(`${gateway.url}/metrics`)).text();

test('the first deployment fails with a 5xx: both SDKs get the next deployment\'s answer, streams too', async () => {
  const chat = await openai.chat.completions.create({ model: 'primary', messages: userMessage('route me') });
  assert.equal(chat.choices[0].message.content, FAKE_TEXT);
  assert.equal(chat.model, 'primary');
  const message = await anthropic.messages.create({ model: 'primary', max_tokens: 16, messages: userMessage('route me') });
  assert.equal(message.content[0].type === 'text' && message.content[0].text, FAKE_TEXT);
  let streamed = '';
  for await (const chunk of await openai.chat.completions.create({ model: 'primary', messages: userMessage('stream me'), stream: true })) {
    streamed += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(streamed, FAKE_TEXT);

  const metrics = await scrape();
  assert.equal(total(metrics, 'vigil_retries_total', { model: 'primary', reason: 'server_error' }), 3);
  assert.equal(total(metrics, 'vigil_routing_decisions_total', { model: 'primary', deployment: 'primary-a', strategy: 'priority' }), 3);
  assert.equal(total(metrics, 'vigil_routing_decisions_total', { model: 'primary', deployment: 'primary-b', strategy: 'priority' }), 3);
  assert.equal(total(metrics, 'vigil_deployment_in_flight', { deployment: 'primary-b' }), 0);
});

test('every deployment of an alias fails: the fallback alias answers', async () => {
  const chat = await openai.chat.completions.create({ model: 'chain', messages: userMessage('fall back') });
  assert.equal(chat.choices[0].message.content, FAKE_TEXT);
  const message = await anthropic.messages.create({ model: 'chain', max_tokens: 16, messages: userMessage('fall back') });
  assert.equal(message.content[0].type === 'text' && message.content[0].text, FAKE_TEXT);
  const metrics = await scrape();
  assert.equal(total(metrics, 'vigil_fallbacks_total', { from: 'chain', to: 'backup', reason: 'server_error' }), 2);
  assert.equal(total(metrics, 'vigil_retries_total', { model: 'chain', reason: 'server_error' }), 2);
});

test('every breaker of an alias open: a fast 503 GW_NO_DEPLOYMENT_AVAILABLE with Retry-After, in each SDK\'s error type', async () => {
  // One failure each opens both breakers (consecutive_failures: 1); the client sees the last upstream failure.
  const first = await rejectsAs(openai.chat.completions.create({ model: 'broken', messages: userMessage('break') }), OpenAI.APIError);
  assert.equal(first.status, 502);
  const metricsBefore = await scrape();
  assert.equal(total(metricsBefore, 'vigil_circuit_breaker_state', { deployment: 'broken-a' }), 1);
  assert.equal(total(metricsBefore, 'vigil_circuit_breaker_state', { deployment: 'broken-b' }), 1);
  const upstreamCalls = fake.requests.length;

  const viaOpenAI = await rejectsAs(openai.chat.completions.create({ model: 'broken', messages: userMessage('again') }), OpenAI.InternalServerError);
  const viaAnthropic = await rejectsAs(anthropic.messages.create({ model: 'broken', max_tokens: 8, messages: userMessage('again') }), Anthropic.InternalServerError);
  const viaStream = await rejectsAs(anthropic.messages.stream({ model: 'broken', max_tokens: 8, messages: userMessage('again') }).finalMessage(), Anthropic.InternalServerError);
  for (const err of [viaOpenAI, viaAnthropic, viaStream]) {
    assert.equal(err.status, 503);
    const seconds = Number(err.headers.get('retry-after'));
    assert.ok(seconds > 0 && seconds <= COOLDOWN_MS / 1000, `retry-after ${err.headers.get('retry-after')}`);
    assert.equal(err.headers.get('x-should-retry'), 'true');
  }
  assert.equal((viaOpenAI.error as { code?: string }).code, 'GW_NO_DEPLOYMENT_AVAILABLE');
  assert.match(JSON.stringify(viaAnthropic.error), /GW_NO_DEPLOYMENT_AVAILABLE|unavailable/);
  assert.equal(fake.requests.length, upstreamCalls, 'fast: no upstream call, no backoff');
});
