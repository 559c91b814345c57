import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { MemoryCounterStore } from './counters.ts';

const MINUTE = 60_000;

/** A store on a clock the test moves. */
function store(startMs = 10 * MINUTE) {
  const clock = { now: startMs };
  return { clock, counters: new MemoryCounterStore({ now: () => clock.now }) };
}

test('increment adds while the count stays within the limit, refuses (adding nothing) past it, and reports the window end', () => {
  const { counters } = store(10 * MINUTE + 1234);
  assert.deepEqual(counters.increment('rpm:a', 2, 3, MINUTE), { allowed: true, count: 2, resetAt: 11 * MINUTE, degraded: false });
  assert.deepEqual(counters.increment('rpm:a', 1, 3, MINUTE), { allowed: true, count: 3, resetAt: 11 * MINUTE, degraded: false });
  assert.deepEqual(counters.increment('rpm:a', 1, 3, MINUTE), { allowed: false, count: 3, resetAt: 11 * MINUTE, degraded: false });
  assert.equal(counters.increment('rpm:b', 1, 3, MINUTE).count, 1, 'keys count apart');
});

test('a new window starts from zero; windows are aligned to the epoch, not to the first call', () => {
  const { clock, counters } = store(10 * MINUTE + 59_000);
  counters.increment('k', 5, 5, MINUTE);
  assert.equal(counters.increment('k', 1, 5, MINUTE).allowed, false);
  clock.now = 11 * MINUTE;
  assert.deepEqual(counters.increment('k', 1, 5, MINUTE), { allowed: true, count: 1, resetAt: 12 * MINUTE, degraded: false });
});

test('concurrent increments never take a counter past its limit: exactly `limit` of them are allowed', async () => {
  const { counters } = store();
  const limit = 250;
  const callers = Array.from({ length: 1000 }, async (_, i) => {
    for (let j = 0; j < i % 3; j++) await tick(); // interleave the callers
    return counters.increment('rpm:shared', 1, limit, MINUTE);
  });
  const results = await Promise.all(callers);
  assert.equal(results.filter((r) => r.allowed).length, limit);
  assert.ok(results.every((r) => r.count <= limit));
  assert.equal(counters.increment('rpm:shared', 0, limit, MINUTE).count, limit);
});

test('reserve sets an amount aside within the limit; settle replaces it by what was spent, and 0 releases it', () => {
  const { counters } = store();
  const first = counters.reserve('usd:a', 6, 10, MINUTE);
  assert.equal(first.granted, true);
  assert.equal(first.used, 6);
  assert.equal(counters.reserve('usd:a', 5, 10, MINUTE).granted, false, 'reserved amounts count against the limit');
  assert.equal(counters.increment('usd:a', 5, 10, MINUTE).allowed, false, 'increments see reservations too');
  counters.settle(first, 2);
  const second = counters.reserve('usd:a', 8, 10, MINUTE);
  assert.equal(second.granted, true, '2 spent + 8 reserved fits');
  counters.settle(second, 0);
  assert.equal(counters.reserve('usd:a', 0, 10, MINUTE).used, 2, 'released: only what was spent remains');
});

test('settle charges actual spend past the limit (it was spent), and a refused reservation settles to nothing', () => {
  const { counters } = store();
  const granted = counters.reserve('usd:a', 1, 10, MINUTE);
  const refused = counters.reserve('usd:a', 20, 10, MINUTE);
  assert.equal(refused.granted, false);
  counters.settle(granted, 12);
  counters.settle(refused, 5);
  assert.equal(counters.reserve('usd:a', 0, 100, MINUTE).used, 12);
});

test('a reservation settled after its window ended is charged to the current window, never lost', () => {
  const { clock, counters } = store();
  const late = counters.reserve('usd:a', 3, 10, MINUTE);
  clock.now += MINUTE;
  counters.settle(late, 4);
  const now = counters.reserve('usd:a', 0, 10, MINUTE);
  assert.equal(now.used, 4, 'the old reservation does not linger in the new window');
});

test('concurrent reservations never set aside more than the limit, and settling frees room for the next', async () => {
  const { counters } = store();
  const reservations = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    if (i % 2) await tick();
    return counters.reserve('usd:shared', 3, 100, MINUTE);
  }));
  const granted = reservations.filter((r) => r.granted);
  assert.equal(granted.length, 33, '33 × 3 = 99 ≤ 100 < 34 × 3');
  for (const r of granted) counters.settle(r, 1);
  assert.equal(counters.reserve('usd:shared', 67, 100, MINUTE).granted, true, '33 spent + 67 = 100');
});

test('failure modes are declared: rate limits fail open, budgets fail closed; memory itself never degrades', () => {
  const { counters } = store();
  assert.deepEqual(counters.failureModes, { increment: 'open', reserve: 'closed' });
  assert.equal(counters.increment('k', 1, 1, MINUTE).degraded, false);
});
