import assert from 'node:assert/strict';
import { test } from 'node:test';
import { windowOf } from '../../core/windows.ts';
import { MemoryCounterStore } from './counters.ts';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

function clocked(): { store: MemoryCounterStore; at: (ms: number) => void } {
  let now = T0;
  return { store: new MemoryCounterStore({ now: () => now }), at: (ms) => { now = ms; } };
}

test('increment adds only while the window stays within its limit, and starts over in the next window', () => {
  const { store } = clocked();
  const minute = windowOf('minute', T0);
  assert.deepEqual(store.increment('rpm:k', 2, 3, minute), { allowed: true, count: 2, resetAt: minute.end, degraded: false });
  assert.deepEqual(store.increment('rpm:k', 2, 3, minute), { allowed: false, count: 2, resetAt: minute.end, degraded: false });
  assert.equal(store.increment('rpm:k', 1, 3, minute).count, 3);
  const next = windowOf('minute', minute.end);
  assert.deepEqual(store.increment('rpm:k', 3, 3, next), { allowed: true, count: 3, resetAt: next.end, degraded: false });
  assert.equal(store.size(), 1, 'the entry is reused when its window rolls over');
});

test('a reservation holds room until settled with the actual spend, which may exceed it', () => {
  const { store } = clocked();
  const day = windowOf('day', T0);
  const first = store.reserve('usd:k:day', 6, 10, day);
  assert.equal(first.granted, true);
  assert.equal(first.used, 6);
  const refused = store.reserve('usd:k:day', 5, 10, day);
  assert.equal(refused.granted, false, 'spent + reserved + amount would pass the limit');
  assert.equal(refused.used, 6);
  store.settle(first, 7, day);
  assert.equal(store.increment('usd:k:day', 0, 10, day).count, 7, 'the reservation is replaced by the actual');
  store.settle(refused, 5, day);
  assert.equal(store.increment('usd:k:day', 0, 10, day).count, 7, 'settling a refused reservation does nothing');
  const last = store.reserve('usd:k:day', 3, 10, day);
  store.settle(last, 9, day);
  assert.equal(store.increment('usd:k:day', 0, 100, day).count, 16, 'an overshoot is charged past the limit: it was spent');
});

test('a settle after its window ended charges the current window, never nothing', () => {
  const { store } = clocked();
  const day = windowOf('day', T0);
  const held = store.reserve('usd:k:day', 4, 10, day);
  const tomorrow = windowOf('day', day.end);
  store.settle(held, 3, tomorrow);
  assert.equal(store.increment('usd:k:day', 0, 10, tomorrow).count, 3);
  const another = store.reserve('usd:k:day', 2, 10, tomorrow);
  store.increment('usd:k:day', 1, 10, windowOf('day', tomorrow.end)); // the entry rolls over once more
  store.settle(another, 2, windowOf('day', tomorrow.end));
  assert.equal(store.increment('usd:k:day', 0, 10, windowOf('day', tomorrow.end)).count, 3);
});

test('seed sets the spent amount of a window nobody counted in yet, once', () => {
  const { store } = clocked();
  const month = windowOf('month', T0);
  store.seed('usd:u:month', month, 8);
  store.seed('usd:u:month', month, 1);
  assert.equal(store.reserve('usd:u:month', 3, 10, month).granted, false);
  store.reserve('usd:t:month', 1, 10, month);
  store.seed('usd:t:month', month, 9);
  assert.equal(store.increment('usd:t:month', 0, 10, month).count, 1, 'a window already counting is not overwritten');
});

test('acquire admits up to the limit, release frees, and forgotten holders go after the ttl', () => {
  const { store, at } = clocked();
  assert.deepEqual(store.acquire('par:k', 2, 1_000), { allowed: true, count: 1, resetAt: T0 + 1_000, degraded: false });
  assert.equal(store.acquire('par:k', 2, 1_000).allowed, true);
  assert.equal(store.acquire('par:k', 2, 1_000).allowed, false);
  store.release('par:k');
  assert.equal(store.acquire('par:k', 2, 1_000).count, 2);
  at(T0 + 999);
  assert.equal(store.acquire('par:k', 2, 1_000).allowed, false, 'still held: the last acquire renewed the guard');
  at(T0 + 2_000);
  assert.deepEqual(store.acquire('par:k', 2, 1_000), { allowed: true, count: 1, resetAt: T0 + 3_000, degraded: false });
});

test('parallel counts and window counters of the same key never meet', () => {
  const { store } = clocked();
  const minute = windowOf('minute', T0);
  store.increment('k', 5, 5, minute);
  assert.equal(store.acquire('k', 1, 1_000).allowed, true);
  store.release('k');
  assert.equal(store.increment('k', 0, 5, minute).count, 5);
});

test('entries of ended windows are swept as new keys arrive, so memory stays bounded by the keys in use', () => {
  const { store, at } = clocked();
  const minute = windowOf('minute', T0);
  for (let i = 0; i < 1_000; i++) store.increment(`rpm:${i}`, 1, 10, minute);
  store.reserve('usd:held', 1, 10, minute);
  at(minute.end + 1);
  const next = windowOf('minute', minute.end + 1);
  for (let i = 0; i < 100; i++) store.increment(`rpm:new:${i}`, 1, 10, next);
  assert.equal(store.size(), 100 + 1, 'ended windows dropped; one with an open reservation kept');
});
