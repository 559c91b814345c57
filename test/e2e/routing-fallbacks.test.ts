// Fault injection across aliases: an upstream 429's Retry-After honoured between attempts (and, past
// max_backoff_ms, a move to the fallback instead of a wait); a fallback chain from an OpenAI-compatible
// deployment to an Anthropic one, triggered only by the listed error classes (a 400 never, context
// overflow only when listed); and an alias whose deployments and fallbacks are all open answering a fast
// 503 GW_NO_DEPLOYMENT_AVAILABLE with Retry-After in both official SDKs' error types.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { FAKE_TEXT, fault } from '../helpers/fake-upstream.ts';
import { assertAnthropicError, assertOpenAIError } from '../helpers/errors.ts';
import { CLIENT_KEY, rejectsAs, userMessage } from '../helpers/stack.ts';
import { CHAT_ROUTE, Scrape, chat, codeOf, ledgerOf, startRoutingStack, type RoutingStack } from './routing-kit.ts';

const RETRY_AFTER_S = 1;
const MAX_BACKOFF_MS = 2000;
const OPEN_COOLDOWN_MS = 30_000;
const OVERFLOW = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.";

const one = (name: string, provider: string, settings: Record<string, unknown> = {}) => ({ name, provider, upstream_model: name, ...settings });
/** Opens at the first failure and stays open through the test. */
const TRIP = { consecutive_failures: 1, cooldown_ms: OPEN_COOLDOWN_MS };

let stack: RoutingStack;
before(async () => {
  stack = await startRoutingStack([
    one('limited', 'fake-a', { retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: MAX_BACKOFF_MS } }),
    one('limited-long', 'fake-a', { retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: 500 }, fallbacks: ['spare'] }),
    one('spare', 'fake-b'),
    // The chain: OpenAI-compatible first, an Anthropic deployment behind it.
    one('chain', 'fake-a', { fallbacks: ['chain-claude'] }),
    one('chain-400', 'fake-a', { retry: { attempts: 3, backoff_ms: 1 }, fallbacks: ['chain-claude'] }),
    one('ctx-default', 'fake-a', { fallbacks: ['chain-claude'] }),
    one('ctx-listed', 'fake-a', { fallbacks: ['chain-claude'], fallback_on: ['context_overflow', 'server_error'] }),
    one('chain-claude', 'fake-claude'),
    // Everything open: two deployments and a fallback, each tripping at its first failure.
    {
      name: 'doomed', fallbacks: ['doomed-spare'], breaker: TRIP, retry: { backoff_ms: 1 },
      deployments: [{ provider: 'fake-a', upstream_model: 'doomed-a' }, { provider: 'fake-b', upstream_model: 'doomed-b' }],
    },
    one('doomed-spare', 'fake-a', { breaker: TRIP }),
  ]);
});
after(async () => { await stack?.stop(); });

const seen = (model: string) => stack.fake.requestsFor(model).length;

test('429 with Retry-After: the second attempt starts no earlier than Retry-After after the first', async () => {
  stack.fake.script('limited', [fault.status(429, { retryAfter: String(RETRY_AFTER_S), retryAfterMs: String(RETRY_AFTER_S * 1000) })]);
  const start = await Scrape.of(stack);
  const answer = await chat(stack, 'limited', 'limited-1');
  assert.equal(answer.status, 200, answer.body);
  const [first, second] = stack.fake.requestsFor('limited');
  assert.equal(stack.fake.requestsFor('limited').length, 2, 'two attempts on the one deployment');
  assert.equal(first.fault, 'status-429');
  assert.ok(second.receivedAt - first.receivedAt >= RETRY_AFTER_S * 1000, `the retry came ${second.receivedAt - first.receivedAt} ms after the first attempt`);
  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_retries_total', { model: 'limited', reason: 'rate_limit' }), 1);
  assert.equal(now.since(start, 'vigil_llm_calls_total', { model: 'limited' }), 2);
  assert.equal((await ledgerOf(stack, ['limited-1'])).get('limited-1')!.status, 200);
});

test('a Retry-After past max_backoff_ms moves to the fallback alias instead of waiting', async () => {
  stack.fake.script('limited-long', [], fault.status(429, { retryAfter: '30' }));
  const start = await Scrape.of(stack);
  const answer = await chat(stack, 'limited-long', 'limited-long-1');
  assert.equal(answer.status, 200, answer.body);
  assert.deepEqual([seen('limited-long'), seen('spare')], [1, 1], 'no second attempt on the limited deployment: the fallback answered');
  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_fallbacks_total', { from: 'limited-long', to: 'spare', reason: 'rate_limit' }), 1);
  assert.equal(now.since(start, 'vigil_retries_total', { model: 'limited-long' }), 0);
  const row = (await ledgerOf(stack, ['limited-long-1'])).get('limited-long-1')!;
  assert.deepEqual([row.provider, row.model, row.status], ['fake-b', 'spare', 200]);
});

test('a fallback chain across providers: an OpenAI-compatible 500 falls back to the Anthropic alias; the OpenAI client gets its answer', async () => {
  stack.fake.script('chain', [], fault.status(500));
  const start = await Scrape.of(stack);
  const openai = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15_000 });
  const completion = await openai.chat.completions.create({ model: 'chain', messages: userMessage('chain-1') }, { headers: { 'x-request-id': 'chain-1' } });
  assert.equal(completion.choices[0].message.content, FAKE_TEXT);
  assert.equal(seen('chain'), 1);
  const upstream = stack.fake.requestsFor('chain-claude');
  assert.deepEqual(upstream.map((r) => r.path), ['/v1/messages'], 'the fallback spoke Anthropic');
  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_fallbacks_total', { from: 'chain', to: 'chain-claude', reason: 'server_error' }), 1);
  assert.equal(now.since(start, 'vigil_llm_call_errors_total', { provider: 'fake-a', model: 'chain', error_class: 'server_error' }), 1);
  assert.equal(now.since(start, 'vigil_llm_calls_total', { provider: 'fake-claude', model: 'chain-claude', outcome: 'success' }), 1);
  const row = (await ledgerOf(stack, ['chain-1'])).get('chain-1')!;
  assert.deepEqual([row.provider, row.status], ['fake-claude', 200]);
});

test('an upstream 400 is the caller\'s error: never retried, never fallen back', async () => {
  stack.fake.script('chain-400', [], fault.status(400));
  const before = seen('chain-claude');
  const start = await Scrape.of(stack);
  const answer = await chat(stack, 'chain-400', 'chain-400-1');
  assert.equal(answer.status, 400);
  assert.equal(codeOf(answer), 'GW_UPSTREAM_BAD_REQUEST');
  assert.deepEqual([seen('chain-400'), seen('chain-claude') - before], [1, 0]);
  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_retries_total', { model: 'chain-400' }), 0);
  assert.equal(now.since(start, 'vigil_fallbacks_total', { from: 'chain-400' }), 0);
  assert.equal((await ledgerOf(stack, ['chain-400-1'])).get('chain-400-1')!.error_class, 'invalid_request');
});

test('context overflow falls back only where fallback_on lists it', async () => {
  for (const model of ['ctx-default', 'ctx-listed']) stack.fake.script(model, [], fault.status(400, { message: OVERFLOW }));
  const before = seen('chain-claude');
  const start = await Scrape.of(stack);

  const unlisted = await chat(stack, 'ctx-default', 'ctx-default-1');
  assert.equal(unlisted.status, 400);
  assert.equal(codeOf(unlisted), 'GW_UPSTREAM_CONTEXT_OVERFLOW');
  assert.equal(seen('chain-claude'), before, 'not fallen back by default');

  const listed = await chat(stack, 'ctx-listed', 'ctx-listed-1');
  assert.equal(listed.status, 200, listed.body);
  assert.equal(seen('chain-claude'), before + 1, 'fallen back to the larger alias');
  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_fallbacks_total', { from: 'ctx-default' }), 0);
  assert.equal(now.since(start, 'vigil_fallbacks_total', { from: 'ctx-listed', to: 'chain-claude', reason: 'context_overflow' }), 1);
  const rows = await ledgerOf(stack, ['ctx-default-1', 'ctx-listed-1']);
  assert.deepEqual([rows.get('ctx-default-1')!.error_class, rows.get('ctx-listed-1')!.provider], ['context_overflow', 'fake-claude']);
});

test('every deployment of an alias and its fallback open: 503 GW_NO_DEPLOYMENT_AVAILABLE with Retry-After, no upstream call, in both SDKs', async () => {
  for (const model of ['doomed-a', 'doomed-b', 'doomed-spare']) stack.fake.script(model, [], fault.status(500));
  const start = await Scrape.of(stack);
  // One request trips all three: A fails, B fails, the fallback fails; the client gets the last failure.
  const tripping = await chat(stack, 'doomed', 'doomed-1');
  assert.equal(tripping.status, 502, tripping.body);
  assert.deepEqual([seen('doomed-a'), seen('doomed-b'), seen('doomed-spare')], [1, 1, 1]);
  const opened = await Scrape.of(stack);
  for (const id of ['fake-a:doomed-a', 'fake-b:doomed-b', 'fake-a:doomed-spare']) {
    assert.equal(opened.value('vigil_circuit_breaker_state', { deployment: id }), 1, `${id} open`);
  }

  const openai = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15_000 });
  const anthropic = new Anthropic({ baseURL: stack.gateway.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15_000 });
  const viaOpenAI = await rejectsAs(openai.chat.completions.create({ model: 'doomed', messages: userMessage('doomed-2') }), OpenAI.InternalServerError);
  assertOpenAIError(viaOpenAI, 503, 'GW_NO_DEPLOYMENT_AVAILABLE');
  const viaAnthropic = await rejectsAs(anthropic.messages.create({ model: 'doomed', max_tokens: 8, messages: userMessage('doomed-3') }), Anthropic.InternalServerError);
  assertAnthropicError(viaAnthropic, 503, 'overloaded_error');
  for (const err of [viaOpenAI, viaAnthropic]) {
    const seconds = Number(err.headers.get('retry-after'));
    assert.ok(seconds >= 1 && seconds <= OPEN_COOLDOWN_MS / 1000, `Retry-After ${err.headers.get('retry-after')}: seconds until the first half-opens`);
    assert.equal(err.headers.get('x-should-retry'), 'true');
  }
  assert.deepEqual([seen('doomed-a'), seen('doomed-b'), seen('doomed-spare')], [1, 1, 1], 'no upstream call while everything is open');

  const now = await Scrape.of(stack);
  assert.equal(now.since(opened, 'vigil_llm_calls_total', { model: 'doomed' }), 0);
  assert.equal(now.since(opened, 'vigil_http_requests_total', { status: '503' }), 2);
  assert.equal(now.since(start, 'vigil_http_requests_total', { route: CHAT_ROUTE }), 2, 'the OpenAI route: one 502, one 503');
  assert.equal(now.value('vigil_routing_routable_deployments', { model: 'doomed' }), 0);
});
