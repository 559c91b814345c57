// The attempt loop step by step, with scripted providers, an injected clock and sleep, and the recorder's
// routing calls in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alias, BreakerGate } from '../core/alias.ts';
import type { RequestContext, ReplyPort } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { compose } from '../pipeline/endpoints.ts';
import { encodeChat } from '../pipeline/encode.ts';
import type { Provider } from '../providers/provider.ts';
import { decodeOpenAIChat } from '../surfaces/openai-chat.ts';
import { testContext } from '../../test/helpers/context.ts';
import { closedGate, routingCalls, scriptedProvider, testAlias, testDeployment, testRouting, type ScriptLog, type Step } from '../../test/helpers/routing.ts';
import { createChatDispatch } from './dispatch.ts';
import { createPlan } from './plan.ts';

const deployment = (alias: string, provider: string, fields = {}) =>
  testDeployment({ name: alias, upstreamModel: provider, providerId: provider, deploymentId: `${provider}:${alias}`, type: 'chat' }, fields);

interface Setup {
  aliases: Alias[];
  steps: Record<string, Step[]>;
  breakers?: BreakerGate;
}

function setup({ aliases, steps, breakers }: Setup) {
  const clock = { now: 0 };
  const log: ScriptLog = { started: [] };
  const providers = new Map<string, Provider>(Object.entries(steps).map(([id, list]) => [id, scriptedProvider(id, list, clock, log)]));
  const recorder = routingCalls();
  const sleeps: number[] = [];
  const gate = breakers ?? closedGate();
  const { routes, deps } = testRouting(aliases, providers, {
    breakers: gate, recorder, now: () => clock.now, random: () => 0.5,
    sleep: async (ms) => { sleeps.push(ms); clock.now += ms; },
  });
  const stages = [createPlan(routes, 'chat'), createChatDispatch(routes, deps, decodeOpenAIChat), encodeChat];
  return {
    log, recorder, sleeps, clock, gate, stats: deps.stats,
    async run(model: string, stream = false, onCtx?: (ctx: RequestContext) => void) {
      const replies: string[] = [];
      let error: GatewayError | undefined;
      const reply: ReplyPort = {
        json: (status) => void replies.push(`json ${status}`),
        startStream() { replies.push('stream'); (reply as { started: boolean }).started = true; },
        write: () => {},
        end: () => void replies.push('end'),
        fail: (err) => { error = err; replies.push(`fail ${err.code}`); },
        started: false,
      };
      const body = { model, stream, messages: [{ role: 'user', content: 'hi' }] };
      const ctx = testContext({ startedAt: 0, body, requestedModel: model, stream, reply, chat: decodeOpenAIChat(body, undefined) });
      onCtx?.(ctx);
      let finished = 0;
      await compose(stages, () => void finished++)(ctx);
      assert.equal(finished, 1);
      return { ctx, replies, error };
    },
  };
}

test('one deployment, answered: one routing decision, in flight around the attempt, the breaker told of the success', async () => {
  const alias = testAlias([deployment('a', 'p')]);
  const t = setup({ aliases: [alias], steps: { p: [] } });
  const { replies } = await t.run('a');
  assert.deepEqual(replies, ['json 200']);
  assert.deepEqual(t.recorder.calls, [['routed', 'a', 'p:a', 'priority']]);
  assert.equal(t.stats.of('p:a').inFlight, 0, 'in flight during the attempt only (the gauge reads it at scrape time)');
  assert.deepEqual((t.gate as ReturnType<typeof closedGate>).recorded, [['p:a', undefined]]);
  assert.deepEqual(t.sleeps, []);
});

test('a 5xx on the first deployment moves to the next one; retry exhaustion moves to the fallback alias', async () => {
  const big = testAlias([deployment('big', 'p', { priority: 0 }), deployment('big', 'q', { priority: 1 })], { fallbacks: ['small'] });
  const small = testAlias([deployment('small', 'r')]);
  const t = setup({
    aliases: [big, small],
    steps: { p: [{ kind: 'fail', code: 'GW_UPSTREAM_SERVER_ERROR' }, { kind: 'fail', code: 'GW_UPSTREAM_SERVER_ERROR' }], q: [{ kind: 'fail', code: 'GW_UPSTREAM_TIMEOUT' }], r: [] },
  });
  const first = await t.run('big');
  assert.deepEqual(first.replies, ['json 200']);
  assert.deepEqual(first.ctx.attempts.map((a) => [a.target.deploymentId, a.error?.errorClass]), [['p:big', 'server_error'], ['q:big', 'timeout'], ['r:small', undefined]]);
  assert.deepEqual(t.recorder.calls, [
    ['routed', 'big', 'p:big', 'priority'],
    ['routed', 'big', 'q:big', 'priority'], ['retried', 'big', 'server_error'],
    ['fellBack', 'big', 'small', 'timeout'],
    ['routed', 'small', 'r:small', 'priority'],
  ]);
  assert.deepEqual(t.sleeps, [], 'backoff_ms 0');
  assert.deepEqual([...t.stats.all()].map((stat) => stat.inFlight), [0, 0, 0], 'nothing left in flight');

  const second = await t.run('big');
  assert.deepEqual(second.ctx.attempts.map((a) => a.target.deploymentId), ['p:big', 'q:big'], 'p failed once more, then q answered');
});

test('caller errors end the request at once; classes outside fallback_on do not fall back', async () => {
  const a = testAlias([deployment('a', 'p'), deployment('a', 'q', { priority: 1 })], { fallbacks: ['b'], fallbackOn: new Set(['server_error']) });
  const b = testAlias([deployment('b', 'r')]);
  const t = setup({ aliases: [a, b], steps: { p: [{ kind: 'fail', code: 'GW_UPSTREAM_BAD_REQUEST' }, { kind: 'fail', code: 'GW_UPSTREAM_RATE_LIMITED' }], q: [{ kind: 'fail', code: 'GW_UPSTREAM_RATE_LIMITED' }], r: [] } });
  const bad = await t.run('a');
  assert.deepEqual([bad.replies, bad.ctx.attempts.length], [['fail GW_UPSTREAM_BAD_REQUEST'], 1]);
  const limited = await t.run('a');
  assert.deepEqual([limited.replies, limited.ctx.attempts.length], [['fail GW_UPSTREAM_RATE_LIMITED'], 2]);
});

test('Retry-After is waited for up to max_backoff_ms; longer, the request moves on without waiting', async () => {
  const a = testAlias([deployment('a', 'p')], { retry: { attempts: 3, maxBackoffMs: 1000 }, fallbacks: ['b'] });
  const b = testAlias([deployment('b', 'r')]);
  const t = setup({ aliases: [a, b], steps: { p: [{ kind: 'fail', code: 'GW_UPSTREAM_RATE_LIMITED', retryAfter: 0.5 }, { kind: 'fail', code: 'GW_UPSTREAM_RATE_LIMITED', retryAfter: 30 }], r: [] } });
  const { ctx, replies } = await t.run('a');
  assert.deepEqual(replies, ['json 200']);
  assert.deepEqual(t.sleeps, [500]);
  assert.deepEqual(ctx.attempts.map((a) => a.target.deploymentId), ['p:a', 'p:a', 'r:b']);
});

test('the deadline: a backoff that would pass it ends the request; no attempt starts after it', async () => {
  const a = testAlias([deployment('a', 'p')], { retry: { attempts: 5, backoffMs: 400, deadlineMs: 1000 } });
  const t = setup({ aliases: [a], steps: { p: [{ kind: 'fail', code: 'GW_UPSTREAM_SERVER_ERROR', ms: 300 }, { kind: 'fail', code: 'GW_UPSTREAM_SERVER_ERROR', ms: 300 }, { kind: 'fail', code: 'GW_UPSTREAM_SERVER_ERROR', ms: 300 }] } });
  const { replies } = await t.run('a');
  assert.deepEqual(replies, ['fail GW_UPSTREAM_SERVER_ERROR']);
  assert.deepEqual(t.sleeps, [200]); // 300 + 200 + 300 = 800; the next backoff (400 · 2 · 0.5) would end at 1200
  assert.ok(t.log.started.every((s) => s.at < 1000));
});

test('an attempt over attempt_timeout_ms is cancelled as a timeout and the next deployment answers', async () => {
  const a = testAlias([deployment('a', 'p'), deployment('a', 'q', { priority: 1 })], { retry: { attemptTimeoutMs: 20 } });
  const t = setup({ aliases: [a], steps: { p: [{ kind: 'hang' }], q: [] } });
  const { ctx, replies } = await t.run('a');
  assert.deepEqual(replies, ['json 200']);
  assert.deepEqual(ctx.attempts.map((x) => [x.target.deploymentId, x.error?.code]), [['p:a', 'GW_UPSTREAM_TIMEOUT'], ['q:a', undefined]]);
});

test('streams: retried when they fail before their first event, never after it', async () => {
  const a = testAlias([deployment('a', 'p'), deployment('a', 'q', { priority: 1 })]);
  const t = setup({ aliases: [a], steps: { p: [{ kind: 'stream_fail', early: true }, { kind: 'stream_fail', early: false }], q: [] } });
  const early = await t.run('a', true);
  assert.deepEqual(early.replies, ['stream', 'end']);
  assert.deepEqual(early.ctx.attempts.map((x) => x.target.deploymentId), ['p:a', 'q:a']);
  const late = await t.run('a', true);
  assert.deepEqual(late.replies, ['stream', 'fail GW_UPSTREAM_SERVER_ERROR']);
  assert.equal(late.ctx.attempts.length, 1);
  // The stream's deployment was in flight until the request was done, and its breaker heard the failure then.
  assert.equal(t.stats.of('p:a').inFlight, 0);
  assert.deepEqual((t.gate as ReturnType<typeof closedGate>).recorded.at(-1), ['p:a', 'server_error']);
});

test('a client gone: no further attempt', async () => {
  const a = testAlias([deployment('a', 'p'), deployment('a', 'q', { priority: 1 })]);
  const t = setup({ aliases: [a], steps: { p: [{ kind: 'hang' }], q: [] } });
  const { ctx, replies } = await t.run('a', false, (c) => void setTimeout(() => c.abort(new GatewayError('GW_CLIENT_CLOSED')), 5));
  assert.deepEqual(ctx.attempts.map((x) => x.error?.code), ['GW_CLIENT_CLOSED']);
  assert.deepEqual(replies, ['fail GW_CLIENT_CLOSED']);
});

test('every deployment of an alias and its fallbacks open: 503 GW_NO_DEPLOYMENT_AVAILABLE with Retry-After, no attempt', async () => {
  const a = testAlias([deployment('a', 'p')], { fallbacks: ['b'] });
  const b = testAlias([deployment('b', 'q')]);
  const asked: string[][] = [];
  const open: BreakerGate = { ...closedGate(), state: () => 1, retryAfterMs(ds) {
    asked.push(ds.map((d) => d.deploymentId));
    return 4200;
  } };
  const t = setup({ aliases: [a, b], steps: { p: [], q: [] }, breakers: open });
  const { ctx, replies, error } = await t.run('a');
  assert.deepEqual(replies, ['fail GW_NO_DEPLOYMENT_AVAILABLE']);
  assert.equal(error!.retryAfter, 5);
  assert.deepEqual(asked, [['p:a', 'q:b']]);
  assert.equal(ctx.attempts.length, 0);
  assert.deepEqual(t.recorder.calls, [['fellBack', 'a', 'b', 'unavailable']]);
});
