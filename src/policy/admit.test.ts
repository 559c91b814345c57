import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelTarget, ReplyPort } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import type { CounterStore } from '../store/ports.ts';
import { MemoryCounterStore } from '../store/memory/counters.ts';
import { windowOf } from '../core/windows.ts';
import { createAdmit } from './admit.ts';
import { settleAdmission } from './settle.ts';
import { noopReply, testContext } from '../../test/helpers/context.ts';
import { testAccess, type TestAccess } from '../../test/helpers/access.ts';

/** $1 per million input tokens, $2 per million output. */
const TARGET: ModelTarget = { name: 'gpt', upstreamModel: 'gpt-4o', providerId: 'mock', deploymentId: 'test', type: 'chat', pricing: { input: 1, output: 2, cachedInput: 0.5, cacheWrite: 1 } };

/**
 * A request of `chars` characters (default 400: 100 tokens estimated for TPM) asking for at most `maxTokens`
 * output. Budget tests send 92: a bound of 92 bytes + 8 framing tokens = 100 input tokens at worst.
 */
/** A budget test's request: worst case 100 input × $1/M + 100 output × $2/M = $0.0003. */
const BUDGET = { chars: 92 };

function request(principal: Principal, options: { maxTokens?: number; model?: string; headers?: Record<string, string>; chars?: number } = {}) {
  const added: Record<string, string> = {};
  const reply: ReplyPort = { ...noopReply, addHeaders: (h) => Object.assign(added, h) };
  const ctx = testContext({
    body: { model: 'gpt', messages: [{ role: 'user', content: 'x'.repeat(options.chars ?? 400) }], max_tokens: options.maxTokens ?? 100 },
    requestedModel: options.model ?? 'gpt', target: TARGET, reply,
  });
  ctx.principal = principal;
  return { ctx, added };
}

/** The request ran: its billed attempt used `input` + `output` tokens and cost `cost`. */
function finish(ctx: ReturnType<typeof request>['ctx'], input: number, output: number, cost: number): void {
  const attempt = ctx.addAttempt(TARGET);
  attempt.startedAt = 1;
  attempt.usage = { inputTokens: input, outputTokens: output, cachedInputTokens: 0 };
  ctx.costUsd = cost;
  settleAdmission(ctx);
}

async function refused(access: TestAccess, ctx: ReturnType<typeof request>['ctx'], code: string): Promise<GatewayError> {
  const admit = stageOf(access);
  let caught: unknown;
  try { await admit(ctx); } catch (err) { caught = err; }
  assert.ok(caught instanceof GatewayError, `expected ${code}`);
  assert.equal(caught.code, code);
  assert.equal(ctx.admission, undefined, 'a refused request holds nothing');
  return caught;
}

const stages = new WeakMap<TestAccess, ReturnType<typeof createAdmit>>();
const stageOf = (access: TestAccess) => {
  let stage = stages.get(access);
  if (!stage) {
    stage = createAdmit(access);
    stages.set(access, stage);
  }
  return stage;
};
const admitted = async (access: TestAccess, ctx: ReturnType<typeof request>['ctx']) => {
  await stageOf(access)(ctx);
  assert.ok(ctx.admission, 'admitted with something to settle');
};

test('a key with no limits and no budgets: admit returns synchronously, takes nothing, touches no counter', () => {
  const access = testAccess();
  const { ctx } = request({ id: 'free', user: 'ann', team: 'blue' });
  assert.equal(stageOf(access)(ctx), undefined);
  assert.equal(ctx.admission, undefined);
  assert.equal(access.counters.size(), 0);
  assert.deepEqual(access.recorder.calls, []);
});

test('a model outside the key\'s models is 403 GW_AUTH_MODEL_NOT_ALLOWED, audited as an auth failure', async () => {
  const access = testAccess();
  const principal: Principal = { id: 'narrow', allowedModels: ['other'] };
  const error = await refused(access, request(principal).ctx, 'GW_AUTH_MODEL_NOT_ALLOWED');
  assert.equal(error.status, 403);
  assert.equal(access.audit.events[0].type, 'auth.failed');
  assert.equal(access.audit.events[0].detail?.reason, 'model_not_allowed');
  const allowed = request({ id: 'narrow2', allowedModels: ['gpt'] }).ctx;
  await stageOf(access)(allowed);
});

test('RPM: the limit+1th request in a minute is 429 with Retry-After and x-ratelimit-*; admitted ones carry the headers', async () => {
  const access = testAccess();
  const key: Principal = { id: 'k', limits: { requestsPerMinute: 2 } };
  access.clock.now = Date.UTC(2026, 0, 1, 0, 0, 15); // 45 s left in the minute
  const first = request(key);
  await admitted(access, first.ctx);
  assert.deepEqual(first.added, { 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '45s' });
  await admitted(access, request(key).ctx);
  const error = await refused(access, request(key).ctx, 'GW_RATE_LIMITED');
  assert.equal(error.status, 429);
  assert.equal(error.retryAfter, 45);
  assert.equal(error.retryable, true);
  assert.equal(error.headers!['x-ratelimit-remaining-requests'], '0');
  assert.equal(access.recorder.count('rate:rpm:rejected'), 1);
  assert.deepEqual(access.audit.events.map((e) => [e.type, e.detail?.scope, e.detail?.limit]), [['rate.limited', 'rpm', 2]]);
  access.clock.now += 45_000;
  await admitted(access, request(key).ctx);
});

test('TPM: the estimate (input + max output) is reserved, then settled with the real tokens', async () => {
  const access = testAccess();
  const key: Principal = { id: 't', limits: { tokensPerMinute: 500 } };
  const first = request(key, { maxTokens: 100 }); // 100 + 100
  await admitted(access, first.ctx);
  assert.equal(first.added['x-ratelimit-remaining-tokens'], '300');
  const second = request(key, { maxTokens: 100 });
  await admitted(access, second.ctx);
  const third = await refused(access, request(key, { maxTokens: 200 }).ctx, 'GW_RATE_LIMITED'); // 300 more > 100 left
  assert.equal(third.headers!['x-ratelimit-limit-tokens'], '500');
  assert.equal(third.headers!['x-ratelimit-remaining-tokens'], '100');
  finish(first.ctx, 20, 10, 0); // really 30: 170 freed
  finish(second.ctx, 20, 10, 0);
  const fourth = request(key, { maxTokens: 200 });
  await admitted(access, fourth.ctx);
  assert.equal(fourth.added['x-ratelimit-remaining-tokens'], String(500 - 60 - 300));
});

test('max parallel: a slot per request in flight, given back at finish (even a failed one)', async () => {
  const access = testAccess();
  const key: Principal = { id: 'p', limits: { maxParallel: 1 } };
  const first = request(key);
  await admitted(access, first.ctx);
  const error = await refused(access, request(key).ctx, 'GW_RATE_LIMITED');
  assert.equal(error.retryAfter, 1);
  assert.equal(first.added['x-ratelimit-limit-requests'], undefined, 'no rate headers for a parallel cap alone');
  first.ctx.error = new GatewayError('GW_UPSTREAM_SERVER_ERROR');
  settleAdmission(first.ctx);
  settleAdmission(first.ctx); // finish runs once; a second settle must not free a slot it does not hold
  const second = request(key);
  await admitted(access, second.ctx);
  await refused(access, request(key).ctx, 'GW_RATE_LIMITED');
});

test('a key\'s daily budget: worst case reserved, real cost settled; exhausted → 429 GW_BUDGET_EXCEEDED, counted and audited', async () => {
  const access = testAccess();
  // Worst case per request: 100 input × $1/M + 100 output × $2/M = $0.0003.
  const key: Principal = { id: 'b', budget: { dailyUsd: 0.001 } };
  const held = [];
  for (let i = 0; i < 3; i++) {
    const { ctx } = request(key, BUDGET);
    await admitted(access, ctx);
    held.push(ctx);
  }
  const error = await refused(access, request(key, BUDGET).ctx, 'GW_BUDGET_EXCEEDED');
  assert.equal(error.status, 429);
  assert.equal(error.retryable, false);
  assert.equal(access.recorder.count('budget:key:day'), 1);
  const event = access.audit.events.find((e) => e.type === 'budget.exceeded')!;
  assert.deepEqual(event.detail, { scope: 'key', period: 'day', limit_usd: 0.001, used_usd: 0.0009 });
  for (const ctx of held) finish(ctx, 50, 10, 0.0001); // each really cost $0.0001: $0.0006 freed
  await admitted(access, request(key, BUDGET).ctx);
  assert.ok(Math.abs(access.recorder.quota.get('key:b:day')! - 0.6) < 1e-9, 'spent 0.0003 + reserved 0.0003 of 0.001');
});

test('user and team budgets from the budget store; a refusal gives back what earlier checks took', async () => {
  const access = testAccess();
  await access.budgets.set('team', 'blue', { monthlyUsd: 0.0005 });
  const key: Principal = { id: 'u', user: 'ann', team: 'blue', limits: { tokensPerMinute: 1000 }, budget: { dailyUsd: 1 } };
  const first = request(key, BUDGET);
  await admitted(access, first.ctx);
  await refused(access, request(key, BUDGET).ctx, 'GW_BUDGET_EXCEEDED');
  assert.equal(access.recorder.count('budget:team:month'), 1);
  // The refused request's TPM and key-budget reservations went back: only the first holds any.
  const minute = windowOf('minute', access.clock.now);
  const probe = await access.counters.reserve('tpm:u', 800, 1000, minute);
  assert.equal(probe.granted, true, '200 held by the first + 800 fits 1000 only if the refused request gave its 200 back');
  await access.counters.settle(probe, 0, minute);
  finish(first.ctx, 10, 10, 0);
  await admitted(access, request(key, BUDGET).ctx);
  await access.budgets.set('user', 'ann', { dailyUsd: 0.0001 });
  await refused(access, request(key, BUDGET).ctx, 'GW_BUDGET_EXCEEDED');
  assert.equal(access.recorder.count('budget:user:day'), 1);
});

test('a budget counter is seeded from the ledger once per window, and concurrent first requests wait for the one seed', async () => {
  const access = testAccess();
  access.analytics.spent.set('key:s', 0.0006);
  let open!: () => void;
  access.analytics.gate = new Promise((resolve) => { open = resolve; });
  const key: Principal = { id: 's', budget: { monthlyUsd: 0.001 } };
  const a = request(key, BUDGET);
  const b = request(key, BUDGET);
  const both = Promise.allSettled([stageOf(access)(a.ctx), stageOf(access)(b.ctx)]);
  open();
  const results = await both;
  assert.equal(access.analytics.calls, 1);
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'], '$0.0006 already spent this month leaves room for one $0.0003 worst case, not two');
});

test('a closed counter store that cannot answer: 503 GW_LIMITS_UNAVAILABLE, counted degraded; an open one answering locally still limits', async () => {
  const refusing: CounterStore = Object.assign(Object.create(new MemoryCounterStore()), {
    failureMode: 'closed',
    increment: () => ({ allowed: false, count: 0, resetAt: 0, degraded: true }),
  });
  const access = testAccess({ counters: refusing });
  const error = await refused(access, request({ id: 'c', limits: { requestsPerMinute: 5 } }).ctx, 'GW_LIMITS_UNAVAILABLE');
  assert.equal(error.status, 503);
  assert.equal(access.recorder.count('rate:rpm:degraded'), 1);
});
