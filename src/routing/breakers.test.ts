// Each breaker transition step by step on an injected clock (policy: 3 failures in a row, or half of ≥ 4 in
// 10 s; open 5 s; 2 trials; server_error/timeout/network count).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BreakerState } from '../core/alias.ts';
import type { BreakerBus } from '../store/ports.ts';
import { aliasOf, breakerPolicy, deploymentOf } from '../../test/helpers/breaker-aliases.ts';
import { Breakers, type BreakersOptions } from './breakers.ts';

const D = deploymentOf('chat', 'p:a');

/** A breaker over deployment p:a, its clock and the transitions it reported. */
function setup(policy = breakerPolicy(), options: BreakersOptions = {}) {
  const clock = { t: 1_000_000 };
  const changes: string[] = [];
  const breakers = new Breakers([aliasOf('chat', ['p:a', 'p:b'], policy)], {
    now: () => clock.t,
    onChange: (id, state, previous, reason) => changes.push(`${id} ${previous}→${state}: ${reason}`),
    ...options,
  });
  return { clock, changes, breakers };
}

function fail(breakers: Breakers, times = 1): void {
  for (let i = 0; i < times; i++) breakers.record(D, 'server_error');
}

test('consecutive failures open the breaker; a success between them starts the count again', () => {
  const { breakers, changes } = setup(breakerPolicy({ minRequests: 100 }));
  fail(breakers, 2);
  breakers.record(D, undefined);
  fail(breakers, 2);
  assert.equal(breakers.state('p:a'), 0, 'two in a row after a success');
  fail(breakers);
  assert.equal(breakers.state('p:a'), 1);
  assert.equal(breakers.tryAcquire(D), false);
  assert.equal(breakers.state('p:b'), 0, 'the other deployment has a breaker of its own');
  assert.deepEqual(changes, ['p:a 0→1: 3 failures in a row']);
});

test('the failure share opens only over the minimum volume, and only on a failure', () => {
  const { breakers, changes } = setup(breakerPolicy({ consecutiveFailures: 100 }));
  fail(breakers);
  breakers.record(D, undefined);
  fail(breakers);
  assert.equal(breakers.state('p:a'), 0, '2 of 3 failed, under min_requests 4');
  breakers.record(D, undefined);
  assert.equal(breakers.state('p:a'), 0, 'a success never opens');
  fail(breakers);
  assert.equal(breakers.state('p:a'), 1, '3 of 5 ≥ 0.5');
  assert.deepEqual(changes, ['p:a 0→1: 3 of 5 attempts failed in 10000 ms']);
});

test('a failure share under the ratio keeps the breaker closed', () => {
  const { breakers } = setup(breakerPolicy({ consecutiveFailures: 100 }));
  for (let i = 0; i < 10; i++) {
    breakers.record(D, undefined);
    breakers.record(D, undefined);
    fail(breakers);
  }
  assert.equal(breakers.state('p:a'), 0, '1 in 3 < 0.5');
});

test('failures older than the window no longer count', () => {
  const { breakers, clock } = setup(breakerPolicy({ consecutiveFailures: 100 }));
  const other = deploymentOf('chat', 'p:b');
  for (const deployment of [D, other]) {
    breakers.record(deployment, 'server_error');
    breakers.record(deployment, 'server_error');
    breakers.record(deployment, undefined);
  }
  clock.t += 9_000;
  breakers.record(other, 'timeout');
  assert.equal(breakers.state('p:b'), 1, 'within the window: 3 of 4');
  clock.t += 1_000;
  breakers.record(D, 'timeout');
  assert.equal(breakers.state('p:a'), 0, '10 s later the first three left the window: 1 of 1, under min_requests');
  breakers.record(D, undefined);
  fail(breakers);
  breakers.record(D, undefined);
  assert.equal(breakers.state('p:a'), 0, '2 of 4 counted, but the last was a success');
  fail(breakers);
  assert.equal(breakers.state('p:a'), 1, '3 of 5 in the new window');
});

test('a wall clock stepping back keeps counting outcomes in the newest bucket', () => {
  const { breakers, clock } = setup(breakerPolicy({ consecutiveFailures: 100 }));
  fail(breakers);
  breakers.record(D, undefined);
  clock.t -= 60_000;
  fail(breakers);
  assert.equal(breakers.state('p:a'), 0, '2 of 3');
  fail(breakers);
  assert.equal(breakers.state('p:a'), 1, '3 of 4: nothing was lost or counted twice');
});

test('error classes outside the policy count as neither failure nor success', () => {
  const { breakers } = setup(breakerPolicy({ on: new Set(['server_error']) }));
  fail(breakers, 2);
  breakers.record(D, 'rate_limit');
  breakers.record(D, 'invalid_request');
  breakers.record(D, 'timeout');
  assert.equal(breakers.state('p:a'), 0);
  fail(breakers);
  assert.equal(breakers.state('p:a'), 1, 'three server errors in a row: the others did not break the run');

  const volume = setup(breakerPolicy({ consecutiveFailures: 100 }));
  for (let i = 0; i < 20; i++) volume.breakers.record(D, 'rate_limit');
  volume.breakers.record(D, 'server_error');
  assert.equal(volume.breakers.state('p:a'), 0, 'rate limits add no volume: 1 of 1 is under min_requests');
});

test('open for the cooldown, then half-open on the next look; Retry-After counts down to it', () => {
  const { breakers, clock, changes } = setup();
  fail(breakers, 3);
  assert.equal(breakers.retryAfterMs([D]), 5_000);
  clock.t += 4_999;
  assert.equal(breakers.tryAcquire(D), false);
  assert.equal(breakers.retryAfterMs([D]), 1);
  assert.equal(breakers.retryAfterMs([D, deploymentOf('chat', 'p:b')]), 0, 'p:b is closed');
  assert.deepEqual([...breakers.states()], [['p:a', 1], ['p:b', 0]]);
  clock.t += 1;
  assert.equal(breakers.retryAfterMs([D]), 0);
  assert.equal(breakers.tryAcquire(D), true);
  assert.equal(breakers.state('p:a'), 2);
  assert.deepEqual(changes, ['p:a 0→1: 3 failures in a row', 'p:a 1→2: cooldown of 5000 ms over']);
});

test('half-open admits at most half_open_requests trials at once and closes when that many succeed', () => {
  const { breakers, clock, changes } = setup();
  fail(breakers, 3);
  clock.t += 5_000;
  assert.deepEqual([breakers.tryAcquire(D), breakers.tryAcquire(D), breakers.tryAcquire(D)], [true, true, false]);
  breakers.record(D, undefined);
  assert.equal(breakers.state('p:a'), 2, 'one trial of two succeeded');
  assert.equal(breakers.tryAcquire(D), true, 'its slot is free again');
  assert.equal(breakers.tryAcquire(D), false);
  breakers.record(D, undefined);
  assert.equal(breakers.state('p:a'), 0);
  assert.equal(changes.at(-1), 'p:a 2→0: 2 trial attempts succeeded');
  breakers.record(D, 'server_error');
  breakers.record(D, 'server_error');
  assert.equal(breakers.state('p:a'), 0, 'closing forgot the old failures: the third trial\'s failure starts a new run');
});

test('a failed trial opens the breaker again for a whole cooldown', () => {
  const { breakers, clock, changes } = setup();
  fail(breakers, 3);
  clock.t += 5_000;
  assert.equal(breakers.tryAcquire(D), true);
  assert.equal(breakers.tryAcquire(D), true);
  breakers.record(D, undefined);
  breakers.record(D, 'timeout');
  assert.equal(breakers.state('p:a'), 1);
  assert.equal(breakers.retryAfterMs([D]), 5_000);
  assert.equal(changes.at(-1), 'p:a 2→1: a trial attempt failed (timeout)');
  breakers.record(D, undefined);
  assert.equal(breakers.state('p:a'), 1, 'a late success of an attempt admitted before changes nothing while open');
});

test('a trial whose outcome never comes frees its slot after a cooldown', () => {
  const { breakers, clock } = setup(breakerPolicy({ halfOpenRequests: 1 }));
  fail(breakers, 3);
  clock.t += 5_000;
  assert.equal(breakers.tryAcquire(D), true, 'the trial, aborted before its outcome was recorded');
  clock.t += 4_999;
  assert.equal(breakers.tryAcquire(D), false);
  clock.t += 1;
  assert.equal(breakers.tryAcquire(D), true, 'the lost trial expired');
  breakers.record(D, undefined);
  assert.equal(breakers.state('p:a'), 0);
});

test('an outcome outside the policy ends a trial without closing or opening', () => {
  const { breakers, clock } = setup(breakerPolicy({ halfOpenRequests: 1 }));
  fail(breakers, 3);
  clock.t += 5_000;
  assert.equal(breakers.tryAcquire(D), true);
  breakers.record(D, 'rate_limit');
  assert.equal(breakers.state('p:a'), 2);
  assert.equal(breakers.tryAcquire(D), true, 'the slot is free for another trial');
  breakers.record(D, undefined);
  assert.equal(breakers.state('p:a'), 0);
});

test('a disabled breaker is always closed', () => {
  const { breakers, changes } = setup(breakerPolicy({ enabled: false }));
  fail(breakers, 50);
  assert.equal(breakers.tryAcquire(D), true);
  assert.equal(breakers.state('p:a'), 0);
  assert.deepEqual(changes, []);
});

test('a deployment under two aliases has one breaker, with the first alias\'s policy', () => {
  const breakers = new Breakers([aliasOf('first', ['p:a'], breakerPolicy({ consecutiveFailures: 2 })), aliasOf('second', ['p:a', 'p:b'], breakerPolicy({ consecutiveFailures: 9 }))], { now: () => 0 });
  breakers.record(deploymentOf('second', 'p:a'), 'server_error');
  breakers.record(deploymentOf('first', 'p:a'), 'server_error');
  assert.equal(breakers.tryAcquire(deploymentOf('second', 'p:a')), false);
  assert.equal(breakers.states().size, 2);
  assert.equal(breakers.tryAcquire(deploymentOf('x', 'unknown:model')), true, 'a deployment no alias lists has no breaker');
});

test('routable counts the deployments not open', () => {
  const { breakers, clock } = setup();
  const both = [D, deploymentOf('chat', 'p:b')];
  assert.equal(breakers.routable(both), 2);
  fail(breakers, 3);
  assert.equal(breakers.routable(both), 1);
  clock.t += 5_000;
  assert.equal(breakers.routable(both), 2, 'half-open is routable');
  assert.equal(breakers.state('p:a'), 2);
});

test('a listener that throws does not undo the transition or fail the caller', () => {
  const { breakers } = setup(breakerPolicy(), { onChange: () => { throw new Error('sink down'); } });
  fail(breakers, 3);
  assert.equal(breakers.state('p:a'), 1);
});

/** A bus in memory: what was published, and a way to deliver a message from another replica. */
function memoryBus() {
  const published: [string, number][] = [];
  let listener: ((id: string, until: number) => void) | undefined;
  const bus: BreakerBus = {
    publishOpen: (id, until) => void published.push([id, until]),
    subscribe: (l) => {
      listener = l;
      return () => { listener = undefined; };
    },
  };
  return { bus, published, deliver: (id: string, until: number) => listener?.(id, until) };
}

test('an opening is published with its open-until time; one heard opens the deployment without publishing back', () => {
  const { bus, published, deliver } = memoryBus();
  const { breakers, clock, changes } = setup(breakerPolicy(), { bus });
  fail(breakers, 3);
  assert.deepEqual(published, [['p:a', clock.t + 5_000]]);

  deliver('p:b', clock.t + 3_000);
  assert.equal(breakers.state('p:b'), 1);
  assert.equal(breakers.retryAfterMs([deploymentOf('chat', 'p:b')]), 3_000);
  assert.equal(changes.at(-1), 'p:b 0→1: opened by another replica');
  assert.equal(published.length, 1, 'not published back');

  deliver('p:a', clock.t + 1_000);
  assert.equal(breakers.retryAfterMs([D]), 5_000, 'a shorter opening does not shorten one');
  deliver('p:b', clock.t + 4_000);
  assert.equal(breakers.retryAfterMs([deploymentOf('chat', 'p:b')]), 4_000, 'a longer one extends it');
  deliver('p:b', clock.t + 60_000);
  assert.equal(breakers.retryAfterMs([deploymentOf('chat', 'p:b')]), 5_000, 'never past this replica\'s own cooldown (clock skew)');
  deliver('unknown:model', clock.t + 1_000);
  assert.equal(changes.length, 2, 'a deployment this replica does not route to, and extensions, are no transitions');

  clock.t += 5_000;
  assert.equal(breakers.tryAcquire(D), true);
  deliver('p:a', clock.t - 1);
  assert.equal(breakers.state('p:a'), 2, 'an opening already over changes nothing');
  deliver('p:a', clock.t + 2_000);
  assert.equal(breakers.state('p:a'), 1, 'a half-open breaker opens on a heard opening');
  breakers.close();
  deliver('p:b', clock.t + 2_000);
  assert.deepEqual([...breakers.states()].map(([, state]) => state), [1, 2] satisfies BreakerState[], 'after close nothing is heard: p:b half-opened on its own');
});
