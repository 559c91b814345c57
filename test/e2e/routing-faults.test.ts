// Fault injection on aliases over two deployments (A before B by priority), each a scripted upstream model
// on the fake: a 5xx burst that opens A's breaker (then half-open probing and recovery), a hang before the
// headers cut by attempt_timeout_ms, deadline_ms bounding the attempts, a hang mid-stream after the first
// byte (never retried) and a connection reset before the headers. Each step asserts what the client got,
// what each fake deployment saw, and /metrics equal to it; the ledger holds one row per request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAKE_TEXT, FAKE_TEXT_PIECES, burst, fault } from '../helpers/fake-upstream.ts';
import { payloads, readSse } from '../helpers/sse.ts';
import { CHAT_ROUTE, Scrape, auditEvents, chat, codeOf, delay, ledgerOf, startRoutingStack, until, type RoutingStack } from './routing-kit.ts';

const COOLDOWN_MS = 2000;
/** How long the half-open trial takes upstream: long enough to scrape the half-open state while it runs. */
const TRIAL_MS = 1000;
const ATTEMPT_TIMEOUT_MS = 500;
const DEADLINE_MS = 1000;
/** undici's idle timer is coarse (~0.5 s ticks): a stalled stream is cut 0.5–1.5 s after its last chunk. */
const IDLE_TIMEOUT_MS = 500;

/** An alias over `<name>-a` on provider fake-a (priority 0) and `<name>-b` on fake-b (priority 1). */
const pair = (name: string, settings: Record<string, unknown> = {}) => ({
  name,
  strategy: 'priority',
  deployments: [
    { provider: 'fake-a', upstream_model: `${name}-a`, priority: 0 },
    { provider: 'fake-b', upstream_model: `${name}-b`, priority: 1 },
  ],
  ...settings,
});
const A = (name: string) => `fake-a:${name}-a`;
const B = (name: string) => `fake-b:${name}-b`;
const QUICK_RETRY = { backoff_ms: 1, max_backoff_ms: 10 };

let stack: RoutingStack;
before(async () => {
  stack = await startRoutingStack([
    pair('brk', { retry: QUICK_RETRY, breaker: { consecutive_failures: 3, cooldown_ms: COOLDOWN_MS, half_open_requests: 1 } }),
    pair('hang', { retry: { ...QUICK_RETRY, attempt_timeout_ms: ATTEMPT_TIMEOUT_MS } }),
    pair('late', { retry: { ...QUICK_RETRY, attempts: 6, attempt_timeout_ms: ATTEMPT_TIMEOUT_MS, deadline_ms: DEADLINE_MS }, breaker: { enabled: false } }),
    pair('mid', { retry: QUICK_RETRY }),
    pair('rst', { retry: QUICK_RETRY }),
  ], { upstream: { idle_timeout_ms: IDLE_TIMEOUT_MS } });
});
after(async () => { await stack?.stop(); });

const seen = (model: string) => stack.fake.requestsFor(model).length;
const textOf = (answer: { body: string }) => JSON.parse(answer.body).choices?.[0]?.message?.content;

test('a 5xx burst on A: B answers transparently, A opens after 3 failures, is skipped, half-opens after the cooldown, recovers and takes the traffic back', async () => {
  const { fake } = stack;
  fake.script('brk-a', burst(3, fault.status(500)), fault.ok);
  const start = await Scrape.of(stack);

  // Three requests: each fails on A, then B answers; the client never sees the 500.
  for (let i = 1; i <= 3; i++) {
    const answer = await chat(stack, 'brk', `brk-${i}`);
    assert.equal(answer.status, 200, `request ${i}: ${answer.body}`);
    assert.equal(textOf(answer), FAKE_TEXT);
    assert.deepEqual([seen('brk-a'), seen('brk-b')], [i, i], `request ${i} went to A, then to B`);
  }
  const opened = Date.now();
  let now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_retries_total', { model: 'brk', reason: 'server_error' }), 3, 'one retry per request, by reason');
  assert.equal(now.since(start, 'vigil_routing_decisions_total', { model: 'brk', deployment: A('brk'), strategy: 'priority' }), 3);
  assert.equal(now.since(start, 'vigil_routing_decisions_total', { model: 'brk', deployment: B('brk'), strategy: 'priority' }), 3);
  assert.equal(now.value('vigil_circuit_breaker_state', { deployment: A('brk') }), 1, 'A is open');
  assert.equal(now.value('vigil_circuit_breaker_state', { deployment: B('brk') }), 0, 'B stays closed');
  assert.equal(now.since(start, 'vigil_circuit_breaker_transitions_total', { deployment: A('brk'), to: 'open' }), 1);
  assert.equal(now.since(start, 'vigil_llm_call_errors_total', { provider: 'fake-a', model: 'brk', error_class: 'server_error' }), 3);
  assert.equal(now.since(start, 'vigil_llm_calls_total', { provider: 'fake-b', model: 'brk', outcome: 'success' }), 3);

  // While open (the cooldown is 2 s; this request follows at once), A is skipped: B answers first time.
  const skipped = await chat(stack, 'brk', 'brk-4');
  assert.equal(skipped.status, 200);
  assert.deepEqual([seen('brk-a'), seen('brk-b')], [3, 4], 'A saw nothing while open');
  const beforeTrial = await Scrape.of(stack);
  assert.equal(beforeTrial.since(now, 'vigil_retries_total', { model: 'brk' }), 0, 'no retry: A was never tried');

  // After the cooldown one trial goes to A (slow, so the half-open state can be read while it runs).
  fake.script('brk-a', [fault.delay(TRIAL_MS)], fault.ok);
  await delay(COOLDOWN_MS + 100 - (Date.now() - opened));
  const trial = chat(stack, 'brk', 'brk-5');
  await fake.waitFor((r) => r.body?.model === 'brk-a' && r.fault === `delay-${TRIAL_MS}`, 5000);
  now = await Scrape.of(stack);
  assert.equal(now.value('vigil_circuit_breaker_state', { deployment: A('brk') }), 2, 'A is half-open during its trial');
  assert.equal(now.since(start, 'vigil_circuit_breaker_transitions_total', { deployment: A('brk'), to: 'half_open' }), 1);
  const trialAnswer = await trial;
  assert.equal(trialAnswer.status, 200);
  assert.deepEqual([seen('brk-a'), seen('brk-b')], [4, 4], 'the trial went to A alone');

  now = await Scrape.of(stack);
  assert.equal(now.value('vigil_circuit_breaker_state', { deployment: A('brk') }), 0, 'A closed after its trial succeeded');
  assert.equal(now.since(start, 'vigil_circuit_breaker_transitions_total', { deployment: A('brk'), to: 'closed' }), 1);

  // Closed again: traffic returns to A by priority.
  const back = await chat(stack, 'brk', 'brk-6');
  assert.equal(back.status, 200);
  assert.deepEqual([seen('brk-a'), seen('brk-b')], [5, 4], 'priority sends the next request to A');

  const end = await Scrape.of(stack);
  assert.equal(end.since(start, 'vigil_http_requests_total', { route: CHAT_ROUTE, status: '200' }), 6, 'six requests, six answers');
  assert.equal(end.since(start, 'vigil_llm_calls_total', { model: 'brk' }), 9, 'attempts: 3×2, then 1, 1, 1');
  assert.equal(end.since(start, 'vigil_llm_calls_total', { provider: 'fake-a', model: 'brk', outcome: 'success' }), 2);
  assert.equal(end.since(start, 'vigil_request_attempts_sum', { route: CHAT_ROUTE }), 9);
  assert.equal(end.since(start, 'vigil_request_attempts_count', { route: CHAT_ROUTE }), 6);
  const rows = await ledgerOf(stack, ['brk-1', 'brk-2', 'brk-3', 'brk-4', 'brk-5', 'brk-6']);
  assert.deepEqual([...rows.values()].map((r) => [r.provider, r.status, r.error_class]), [
    ['fake-b', 200, ''], ['fake-b', 200, ''], ['fake-b', 200, ''], ['fake-b', 200, ''], ['fake-a', 200, ''], ['fake-a', 200, ''],
  ], 'one row per request, billed to the deployment that answered');

  // Every transition is audited, actor system, target the deployment.
  const events = await until('the three breaker audit events', async () => {
    const found = (await auditEvents(stack)).filter((e) => String(e.type).startsWith('breaker.') && e.target === A('brk'));
    return found.length >= 3 ? found : undefined;
  });
  assert.deepEqual(events.map((e) => [e.type, e.actor]), [['breaker.opened', 'system'], ['breaker.half_opened', 'system'], ['breaker.closed', 'system']]);
  assert.equal(end.since(start, 'vigil_audit_events_total', { type: 'breaker.opened' }), 1);
});

test('a hang before the headers: attempt_timeout_ms cuts the attempt (class timeout) and B answers', async () => {
  stack.fake.script('hang-a', [fault.hangHeaders]);
  const start = await Scrape.of(stack);
  const started = Date.now();
  const answer = await chat(stack, 'hang', 'hang-1');
  assert.equal(answer.status, 200, answer.body);
  assert.ok(Date.now() - started >= ATTEMPT_TIMEOUT_MS - 20, 'B answered only after A was given its time');
  const hung = stack.fake.requestsFor('hang-a')[0];
  assert.ok(await until('the gateway hung up on A', async () => hung.closedByPeerAt), 'the gateway closed the hanging attempt');
  assert.equal(seen('hang-b'), 1);
  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_retries_total', { model: 'hang', reason: 'timeout' }), 1);
  assert.equal(now.since(start, 'vigil_llm_call_errors_total', { provider: 'fake-a', model: 'hang', error_class: 'timeout' }), 1);
  assert.equal(now.since(start, 'vigil_llm_calls_total', { provider: 'fake-b', model: 'hang', outcome: 'success' }), 1);
  const line = await stack.gateway.waitForLog((r) => r.request_id === 'hang-1');
  assert.equal(line.attempts, 2, 'the request line counts both attempts');
  assert.equal((await ledgerOf(stack, ['hang-1'])).get('hang-1')!.provider, 'fake-b');
});

test('deadline_ms: attempts stop at the deadline and the client gets 504 GW_UPSTREAM_TIMEOUT; nothing is tried after', async () => {
  stack.fake.script('late-a', [], fault.hangHeaders);
  stack.fake.script('late-b', [], fault.hangHeaders);
  const start = await Scrape.of(stack);
  const started = Date.now();
  const answer = await chat(stack, 'late', 'late-1');
  const answeredAt = Date.now();
  assert.equal(answer.status, 504, answer.body);
  assert.equal(codeOf(answer), 'GW_UPSTREAM_TIMEOUT');
  assert.ok(answeredAt - started >= DEADLINE_MS - 20, 'not before the deadline');
  const attempts = () => [...stack.fake.requestsFor('late-a'), ...stack.fake.requestsFor('late-b')];
  // An attempt started just before the deadline is cut at it: its request may reach the fake a moment after
  // the client has its 504, or not at all (two connections, no order between them). So the gateway's own
  // count is the measure, read once both sides are still, and the upstream never saw more than it.
  await delay(ATTEMPT_TIMEOUT_MS * 2);
  const line = await stack.gateway.waitForLog((r) => r.request_id === 'late-1');
  const made = line.attempts as number;
  // 6 attempts of 500 ms would take 3 s: the 1 s deadline leaves room for at most 3 (at 0, ~500, ~1000 ms).
  assert.ok(made >= 2 && made <= 3, `${made} attempts within the deadline`);
  assert.ok(attempts().length <= made && attempts().length >= made - 1, `the upstream saw ${attempts().length} of the gateway's ${made}`);
  const seenThen = attempts().length;
  await delay(ATTEMPT_TIMEOUT_MS);
  assert.equal(attempts().length, seenThen, 'no attempt after the client got its answer');
  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_llm_calls_total', { model: 'late' }), made, 'every attempt counted once');
  assert.equal(now.since(start, 'vigil_http_requests_total', { route: CHAT_ROUTE, status: '504' }), 1);
  const row = (await ledgerOf(stack, ['late-1'])).get('late-1')!;
  assert.deepEqual([row.status, row.error_class], [504, 'timeout']);
  stack.fake.clearScripts();
});

test('a hang mid-stream after the first chunk reached the client: no retry, the stream ends in an error event, one row, one call error', async () => {
  stack.fake.script('mid-a', [fault.hangStream(1)]);
  const start = await Scrape.of(stack);
  const res = await fetch(`${stack.gateway.url}${CHAT_ROUTE}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'mid-1' },
    body: JSON.stringify({ model: 'mid', stream: true, messages: [{ role: 'user', content: 'mid-1' }] }),
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(res.status, 200, 'the stream had opened');
  const items = payloads(await readSse(res));
  const text = items.filter((p) => p !== '[DONE]' && p.choices).map((p) => p.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, FAKE_TEXT_PIECES[0], 'the first piece reached the client');
  const failure = items.findIndex((p) => p !== '[DONE]' && p.error);
  assert.equal(items[failure]?.error?.code, 'GW_UPSTREAM_TIMEOUT', `the stream ends in the error event: ${JSON.stringify(items)}`);
  assert.ok(items.slice(failure + 1).every((p) => p === '[DONE]'), 'nothing after the error event');
  assert.deepEqual([seen('mid-a'), seen('mid-b')], [1, 0], 'not retried after the first byte');

  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_retries_total', { model: 'mid' }), 0);
  assert.equal(now.since(start, 'vigil_fallbacks_total', { from: 'mid' }), 0);
  assert.equal(now.since(start, 'vigil_llm_calls_total', { model: 'mid' }), 1);
  assert.equal(now.since(start, 'vigil_llm_call_errors_total', { provider: 'fake-a', model: 'mid', error_class: 'timeout' }), 1);
  const row = (await ledgerOf(stack, ['mid-1'])).get('mid-1')!;
  assert.deepEqual([row.provider, row.error_class, row.stream], ['fake-a', 'timeout', 1]);
});

test('a connection reset before the headers: retried on B (class network)', async () => {
  stack.fake.script('rst-a', [fault.resetBeforeHeaders]);
  const start = await Scrape.of(stack);
  const answer = await chat(stack, 'rst', 'rst-1');
  assert.equal(answer.status, 200, answer.body);
  assert.equal(textOf(answer), FAKE_TEXT);
  assert.deepEqual([seen('rst-a'), seen('rst-b')], [1, 1]);
  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_retries_total', { model: 'rst', reason: 'network' }), 1);
  assert.equal(now.since(start, 'vigil_llm_call_errors_total', { provider: 'fake-a', model: 'rst', error_class: 'network' }), 1);
  assert.equal(now.since(start, 'vigil_http_requests_total', { route: CHAT_ROUTE }), 1);
  assert.equal((await ledgerOf(stack, ['rst-1'])).get('rst-1')!.provider, 'fake-b');
});
