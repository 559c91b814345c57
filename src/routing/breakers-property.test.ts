// The breaker's promises over any sequence of attempts and time: never more than half_open_requests trials in
// flight, nothing admitted while open before the cooldown ends, closed only once that many trials succeeded,
// never wedged by trials whose outcome never came.
// The driver holds the attempts the breaker admitted and ends them in any order (a success, a counted failure,
// another error) or abandons them (aborted: never recorded). An attempt still held a cooldown after it started
// is abandoned: the breaker cannot tell an attempt that outlives its cooldown from a trial (see breakers.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { BreakerState } from '../core/alias.ts';
import type { ErrorClass } from '../core/errors.ts';
import { aliasOf, breakerPolicy, deploymentOf } from '../../test/helpers/breaker-aliases.ts';
import { Breakers } from './breakers.ts';

type Op =
  | { kind: 'acquire' }
  | { kind: 'end'; pick: number; outcome: ErrorClass | undefined }
  | { kind: 'abandon'; pick: number }
  /** By a share of the cooldown, or by a few ms (to land near its end). */
  | { kind: 'advance'; cooldowns: number }
  | { kind: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Op>({ kind: 'acquire' }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('end' as const), pick: fc.nat(), outcome: fc.constantFrom<ErrorClass | undefined>(undefined, undefined, 'server_error', 'timeout', 'rate_limit') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abandon' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), cooldowns: fc.double({ min: 0, max: 1.5, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 100 }) }) },
);

const policy = fc.record({
  failureRatio: fc.constantFrom(0.25, 0.5, 1),
  minRequests: fc.integer({ min: 1, max: 5 }),
  windowMs: fc.integer({ min: 1_000, max: 10_000 }),
  consecutiveFailures: fc.integer({ min: 1, max: 4 }),
  cooldownMs: fc.integer({ min: 100, max: 5_000 }),
  halfOpenRequests: fc.integer({ min: 1, max: 3 }),
});

test('breaker invariants hold over any sequence of attempts, outcomes and time', () => {
  fc.assert(
    fc.property(policy, fc.array(op, { minLength: 20, maxLength: 200, size: 'max' }), (limits, ops) => {
      const rules = breakerPolicy({ ...limits, on: new Set<ErrorClass>(['server_error', 'timeout']) });
      const deployment = deploymentOf('m', 'p:a');
      let now = 1_000_000;
      let state = 0 as BreakerState;
      let openUntil = 0;
      let trialSuccesses = 0;
      let recording: ErrorClass | undefined | null = null;
      /** The listener's findings: the breaker ignores a throwing listener, so they are checked after each step. */
      const broken: string[] = [];
      const expect = (ok: boolean, promise: string) => { if (!ok) broken.push(promise); };
      const breakers = new Breakers([aliasOf('m', ['p:a'], rules)], {
        now: () => now,
        onChange: (_id, next, previous) => {
          expect(previous === state, 'transitions are reported in order');
          if (next === 1) {
            expect(recording !== null && recording !== undefined && rules.on.has(recording), 'only a counted failure opens');
            openUntil = now + rules.cooldownMs;
          }
          if (next === 2) {
            expect(previous === 1 && now >= openUntil, 'half-open only from open, after the cooldown');
            trialSuccesses = 0;
          }
          if (next === 0) {
            expect(previous === 2, 'closed only from half-open');
            expect(trialSuccesses >= rules.halfOpenRequests, `closed after ${trialSuccesses} successful trials of ${rules.halfOpenRequests}`);
          }
          state = next;
        },
      });
      /** Attempts admitted and not yet ended or abandoned. */
      let held: { trial: boolean; startedAt: number }[] = [];
      for (const step of ops) {
        held = held.filter((attempt) => now - attempt.startedAt < rules.cooldownMs);
        if (step.kind === 'acquire') {
          const wasOpen = state === 1 && now < openUntil;
          if (!breakers.tryAcquire(deployment)) continue;
          assert.ok(!wasOpen, 'nothing is admitted while open before the cooldown ends');
          held.push({ trial: state === 2, startedAt: now });
          assert.ok(held.filter((attempt) => attempt.trial).length <= rules.halfOpenRequests, 'trials in flight within half_open_requests');
        } else if (step.kind === 'end' && held.length > 0) {
          held.splice(step.pick % held.length, 1);
          if (state === 2 && step.outcome === undefined) trialSuccesses++;
          recording = step.outcome;
          breakers.record(deployment, step.outcome);
          recording = null;
        } else if (step.kind === 'abandon' && held.length > 0) {
          held.splice(step.pick % held.length, 1);
        } else if (step.kind === 'advance') {
          now += 'ms' in step ? step.ms : Math.round(step.cooldowns * rules.cooldownMs);
        }
        assert.equal(breakers.state('p:a'), state);
        assert.deepEqual(broken, []);
      }
      // Whatever was lost on the way, a deployment is tried again two cooldowns later: nothing wedges it.
      now += 2 * rules.cooldownMs;
      assert.equal(breakers.tryAcquire(deployment), true, 'admitted again after two cooldowns');
    }),
    { numRuns: 500 },
  );
});
