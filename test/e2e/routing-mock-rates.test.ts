// The mock provider's error_rates on two mock deployments of one alias, with retries: whatever each
// request's luck, it ends exactly once (one answer, one log line, one ledger row), and /metrics count the
// requests once and every attempt once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from '../helpers/scrape.ts';
import { CHAT_ROUTE, Scrape, chat, codeOf, ledgerOf, startRoutingStack, type RoutingStack } from './routing-kit.ts';

const REQUESTS = 40;
const CONCURRENCY = 4;
const ATTEMPTS = 4;

let stack: RoutingStack;
before(async () => {
  const flaky = { kind: 'mock', error_rates: { server_error: 0.5 }, completion_tokens: 3 };
  stack = await startRoutingStack([{
    name: 'flaky',
    strategy: 'weighted',
    deployments: [{ provider: 'mock-x', upstream_model: 'flaky-x' }, { provider: 'mock-y', upstream_model: 'flaky-y' }],
    retry: { attempts: ATTEMPTS, backoff_ms: 1, max_backoff_ms: 5 },
    // No breaker: every request meets the error rate, never a 503 for an open circuit.
    breaker: { enabled: false },
  }], { providers: { 'mock-x': flaky, 'mock-y': flaky } });
});
after(async () => { await stack?.stop(); });

test(`server_error at rate 0.5 on both deployments, ${ATTEMPTS} attempts: every request ends once; requests, attempts and rows add up`, async () => {
  const start = await Scrape.of(stack);
  const ids = Array.from({ length: REQUESTS }, (_, i) => `flaky-${i}`);
  const answers = new Map<string, Answer>();
  for (let i = 0; i < ids.length; i += CONCURRENCY) {
    const batch = ids.slice(i, i + CONCURRENCY);
    const results = await Promise.all(batch.map((id) => chat(stack, 'flaky', id)));
    for (const [j, id] of batch.entries()) answers.set(id, results[j]);
  }
  const ok = [...answers.values()].filter((a) => a.status === 200).length;
  for (const [id, answer] of answers) {
    if (answer.status !== 200) {
      assert.equal(answer.status, 502, `${id}: ${answer.body}`);
      assert.equal(codeOf(answer), 'GW_UPSTREAM_SERVER_ERROR', `${id} failed only after every attempt failed`);
    }
  }

  const lines = await Promise.all(ids.map((id) => stack.gateway.waitForLog((r) => r.request_id === id, 5000)));
  const attemptsOf = (line: Record<string, any>) => line.attempts ?? 1;
  for (const [i, line] of lines.entries()) {
    assert.equal(stack.gateway.logRecords().filter((r) => r.request_id === ids[i] && r.msg?.startsWith('request')).length, 1, `one request line for ${ids[i]}`);
    assert.ok(attemptsOf(line) >= 1 && attemptsOf(line) <= ATTEMPTS, `${ids[i]}: ${attemptsOf(line)} attempts`);
    if (line.status !== 200) assert.equal(attemptsOf(line), ATTEMPTS, `${ids[i]} failed only after ${ATTEMPTS} attempts`);
  }
  const attempts = lines.reduce((sum, line) => sum + attemptsOf(line), 0);

  const now = await Scrape.of(stack);
  assert.equal(now.since(start, 'vigil_http_requests_total', { route: CHAT_ROUTE }), REQUESTS, 'each request counted once');
  assert.equal(now.since(start, 'vigil_http_requests_total', { route: CHAT_ROUTE, status: '200' }), ok);
  assert.equal(now.since(start, 'vigil_llm_calls_total', { model: 'flaky' }), attempts, 'each attempt counted once');
  assert.equal(now.since(start, 'vigil_llm_calls_total', { model: 'flaky', outcome: 'success' }), ok, 'one successful attempt per answered request');
  assert.equal(now.since(start, 'vigil_llm_call_errors_total', { model: 'flaky', error_class: 'server_error' }), attempts - ok);
  assert.equal(now.since(start, 'vigil_retries_total', { model: 'flaky', reason: 'server_error' }), attempts - REQUESTS);
  assert.equal(now.since(start, 'vigil_routing_decisions_total', { model: 'flaky' }), attempts, 'one routing decision per attempt');
  assert.equal(now.since(start, 'vigil_request_attempts_count', { route: CHAT_ROUTE }), REQUESTS);
  assert.equal(now.since(start, 'vigil_request_attempts_sum', { route: CHAT_ROUTE }), attempts);
  assert.equal(now.value('vigil_deployment_in_flight', { deployment: 'mock-x:flaky-x' }) + now.value('vigil_deployment_in_flight', { deployment: 'mock-y:flaky-y' }), 0, 'nothing left in flight');

  const rows = await ledgerOf(stack, ids);
  assert.equal(rows.size, REQUESTS, 'one ledger row per request');
  for (const [id, row] of rows) assert.equal(row.status, answers.get(id)!.status, `${id}: the row records the answer the client got`);
});
