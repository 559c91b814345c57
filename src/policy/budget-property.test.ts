// Budget arithmetic through the real admit stage and settle finisher on the memory counters: requests are
// admitted and settled in any interleaving (a random schedule of "admit the next" / "settle one in flight").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ModelTarget } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import { createAdmit } from './admit.ts';
import { settleAdmission } from './settle.ts';
import { testContext } from '../../test/helpers/context.ts';
import { testAccess } from '../../test/helpers/access.ts';

/** $1 per million tokens in and out: a request's worst case is (input estimate + max_tokens) / 1e6 USD. */
const TARGET: ModelTarget = { name: 'm', upstreamModel: 'm', providerId: 'mock', deploymentId: 'test', type: 'chat', pricing: { input: 1, output: 1, cachedInput: 1, cacheWrite: 1 } };

interface Spec {
  chars: number;
  maxTokens: number;
  /** The real cost as a fraction of the worst case (> 1: the estimate fell short). */
  actualRatio: number;
}

/** Runs `specs` in the order `schedule` picks; returns what was spent, the budget and each admitted request's worst case and actual. */
async function run(specs: Spec[], schedule: number[], budgetUsd: number) {
  const access = testAccess();
  const admit = createAdmit(access);
  const principal: Principal = { id: 'key', budget: { dailyUsd: budgetUsd } };
  const inFlight: { ctx: ReturnType<typeof testContext>; actual: number }[] = [];
  let spent = 0;
  let next = 0;
  const overruns: number[] = [];
  const settleOne = (pick: number) => {
    const [{ ctx, actual }] = inFlight.splice(pick % inFlight.length, 1);
    ctx.costUsd = actual;
    settleAdmission(ctx);
    spent += actual;
  };
  for (const step of schedule) {
    if (next < specs.length && (step % 2 === 0 || inFlight.length === 0)) {
      const spec = specs[next++];
      const ctx = testContext({ body: { messages: [{ role: 'user', content: 'x'.repeat(spec.chars) }], max_tokens: spec.maxTokens }, requestedModel: 'm', target: TARGET });
      ctx.principal = principal;
      const worst = (Math.ceil(spec.chars / 4) + spec.maxTokens) / 1e6;
      try {
        await admit(ctx);
      } catch (err) {
        assert.ok(err instanceof GatewayError && err.code === 'GW_BUDGET_EXCEEDED');
        continue;
      }
      const actual = worst * spec.actualRatio;
      overruns.push(Math.max(0, actual - worst));
      inFlight.push({ ctx, actual });
    } else if (inFlight.length) {
      settleOne(step >> 1);
    }
  }
  while (inFlight.length) settleOne(0);
  return { spent, overruns };
}

const spec = (maxRatio: number) => fc.record({
  chars: fc.integer({ min: 0, max: 4000 }),
  maxTokens: fc.integer({ min: 1, max: 2000 }),
  actualRatio: fc.double({ min: 0, max: maxRatio, noNaN: true }),
});
const schedule = fc.array(fc.nat(1000), { minLength: 1, maxLength: 120 });
const budget = fc.double({ min: 0.0005, max: 0.02, noNaN: true });
const EPSILON = 1e-12;

test('property: when no request costs more than its worst case, no interleaving spends past the budget', async () => {
  await fc.assert(fc.asyncProperty(fc.array(spec(1), { minLength: 1, maxLength: 40 }), schedule, budget, async (specs, order, limit) => {
    const { spent } = await run(specs, order, limit);
    assert.ok(spent <= limit + EPSILON, `spent ${spent} of ${limit}`);
  }), { numRuns: 300 });
});

test('property: with costs past the estimate, the overshoot is at most what the estimates missed; one at a time, at most one request\'s cost', async () => {
  await fc.assert(fc.asyncProperty(fc.array(spec(3), { minLength: 1, maxLength: 40 }), schedule, budget, async (specs, order, limit) => {
    const { spent, overruns } = await run(specs, order, limit);
    const missed = overruns.reduce((a, b) => a + b, 0);
    assert.ok(spent <= limit + missed + EPSILON, `spent ${spent} of ${limit}, estimates missed ${missed}`);
  }), { numRuns: 300 });
  // Sequential (each request settled before the next is admitted): the last admitted request found spend
  // ≤ budget − its worst case, so the overshoot is at most its own cost.
  await fc.assert(fc.asyncProperty(fc.array(spec(3), { minLength: 1, maxLength: 40 }), budget, async (specs, limit) => {
    const sequential = specs.flatMap(() => [0, 1]);
    const largest = Math.max(...specs.map((s) => (Math.ceil(s.chars / 4) + s.maxTokens) / 1e6 * s.actualRatio));
    const { spent } = await run(specs, sequential, limit);
    assert.ok(spent <= limit + largest + EPSILON, `spent ${spent} of ${limit}, largest request ${largest}`);
  }), { numRuns: 300 });
});
