// Property: over random deployment sets, fallback chains, breaker states, deadlines and failure sequences,
// every request ends exactly once (one success or one error reaching the client), is counted by finish once
// and billed once (a usage record only when an attempt went out, with the answering attempt's cost), no
// attempt starts at or after the deadline, and no stream is retried once its first event came.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { Alias, BreakerGate } from '../core/alias.ts';
import type { ReplyPort } from '../core/context.ts';
import type { ErrorCode } from '../core/errors.ts';
import { compose } from '../pipeline/endpoints.ts';
import { encodeChat } from '../pipeline/encode.ts';
import { composeFinish, createFinishers } from '../pipeline/finish.ts';
import type { Provider } from '../providers/provider.ts';
import type { UsageRecord } from '../store/ports.ts';
import { decodeOpenAIChat } from '../surfaces/openai-chat.ts';
import { createLogs } from '../telemetry/log.ts';
import { Recorder } from '../telemetry/metrics/record.ts';
import { createMetrics } from '../telemetry/metrics/registry.ts';
import { testContext } from '../../test/helpers/context.ts';
import { closedGate, scriptedProvider, testAlias, testDeployment, testRouting, type ScriptLog, type Step } from '../../test/helpers/routing.ts';
import { createChatDispatch } from './dispatch.ts';
import { createPlan } from './plan.ts';

const CODES: ErrorCode[] = ['GW_UPSTREAM_SERVER_ERROR', 'GW_UPSTREAM_RATE_LIMITED', 'GW_UPSTREAM_TIMEOUT', 'GW_UPSTREAM_NETWORK', 'GW_UPSTREAM_BAD_REQUEST', 'GW_UPSTREAM_CONTEXT_OVERFLOW', 'GW_UPSTREAM_AUTH'];

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('ok' as const), ms: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant('fail' as const), code: fc.constantFrom(...CODES), ms: fc.integer({ min: 0, max: 300 }), retryAfter: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('stream_fail' as const), early: fc.boolean(), ms: fc.integer({ min: 0, max: 300 }) }),
);

const scenario = fc.record({
  /** Per alias: how many deployments (each its own provider); alias i falls back to some later aliases. */
  aliases: fc.array(fc.record({
    deployments: fc.integer({ min: 1, max: 3 }),
    attempts: fc.integer({ min: 1, max: 4 }),
    fallbacks: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    strategy: fc.constantFrom('priority' as const, 'weighted' as const, 'least_in_flight' as const, 'lowest_latency' as const),
  }), { minLength: 1, maxLength: 3 }),
  steps: fc.array(fc.array(step, { maxLength: 4 }), { minLength: 9, maxLength: 9 }),
  open: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
  deadlineMs: fc.constantFrom(0, 200, 700),
  backoffMs: fc.constantFrom(0, 100),
  stream: fc.boolean(),
  seed: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
});

test('every request ends once, is counted and billed once; no attempt after the deadline; no stream retried after its first event', async () => {
  await fc.assert(fc.asyncProperty(scenario, async (s) => {
    const clock = { now: 0 };
    const log: ScriptLog = { started: [] };
    const providers = new Map<string, Provider>();
    const aliases: Alias[] = s.aliases.map((spec, a) => {
      const deployments = Array.from({ length: spec.deployments }, (_, d) => {
        const id = `p${a * 3 + d}`;
        providers.set(id, scriptedProvider(id, [...s.steps[a * 3 + d]], clock, log));
        return testDeployment({ name: `a${a}`, upstreamModel: id, providerId: id, deploymentId: id, type: 'chat', pricing: { input: 1, output: 2, cachedInput: 1, cacheWrite: 1 } }, { priority: d });
      });
      const fallbacks = [...new Set(spec.fallbacks.map((step) => a + step).filter((i) => i < s.aliases.length))].map((i) => `a${i}`);
      return testAlias(deployments, { strategy: spec.strategy, fallbacks, retry: { attempts: spec.attempts, backoffMs: s.backoffMs, deadlineMs: s.deadlineMs } });
    });
    const gate: BreakerGate = { ...closedGate(), state: (id) => (s.open[Number(id.slice(1))] ? 1 : 0), retryAfterMs: () => 1000 };
    const { routes, deps } = testRouting(aliases, providers, {
      breakers: gate, now: () => clock.now, random: () => s.seed,
      sleep: async (ms) => { clock.now += ms; },
    });

    const records: UsageRecord[] = [];
    let finished = 0;
    const recorder = new Recorder(createMetrics(), { version: 't', commit: 't', models: [] });
    const logs = createLogs({ level: 'info', format: 'json', version: 't' }, new Writable({ write: (_c, _e, done) => done() }));
    const finishers = createFinishers({ recorder, ledger: { append: (r: UsageRecord) => void records.push(r) } as never, log: logs.requestLines() });
    const finish = composeFinish([...finishers, () => void finished++]);

    const endings: string[] = [];
    const reply: ReplyPort & { started: boolean } = {
      started: false,
      json: (status) => void endings.push(`json ${status}`),
      startStream() { this.started = true; },
      write: () => {},
      end: () => void endings.push('end'),
      fail: (err) => void endings.push(`fail ${err.code}`),
    };
    const body = { model: 'a0', stream: s.stream, messages: [{ role: 'user', content: 'hi' }] };
    const ctx = testContext({ startedAt: 0, body, requestedModel: 'a0', stream: s.stream, reply, chat: decodeOpenAIChat(body, undefined) });
    await compose([createPlan(routes, 'chat'), createChatDispatch(routes, deps, decodeOpenAIChat), encodeChat], finish)(ctx);

    assert.equal(endings.length, 1, `one ending: ${endings}`);
    assert.equal(finished, 1);
    const started = ctx.attempts.filter((attempt) => attempt.started);
    assert.equal(records.length, started.length > 0 ? 1 : 0, 'billed once when an attempt went out');
    if (records.length) assert.equal(records[0].costUsd, ctx.attempt!.costUsd);
    assert.equal(endings[0] === 'json 200' || endings[0] === 'end', ctx.error === undefined);
    assert.equal(log.started.length, ctx.attempts.length);
    if (s.deadlineMs > 0) assert.ok(log.started.every((entry) => entry.at < s.deadlineMs), 'no attempt at or after the deadline');
    const streamedAt = log.started.findIndex((entry) => entry.firstEvent);
    if (streamedAt >= 0) assert.equal(streamedAt, log.started.length - 1, 'nothing after a stream\'s first event');
    for (const stat of deps.stats.all()) assert.equal(stat.inFlight, 0);
  }), { numRuns: 300 });
});
