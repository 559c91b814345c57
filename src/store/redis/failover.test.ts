// RedisCounters when Redis dies, hangs and comes back, on a redis-server of this test's own: answers
// degraded per redis.on_failure, never throws, never waits past the command timeout, and counts in Redis
// again once it returns, without a restart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from '../../../test/helpers/gateway.ts';
import { bounded as boundedBy, type OwnRedis, startOwnRedis } from '../../../test/helpers/redis-server.ts';
import { windowOf } from '../../core/windows.ts';
import type { FailureMode } from '../ports.ts';
import { RedisCounters, type RedisState } from './counters.ts';

const TIMEOUT_MS = 300;
let server: OwnRedis;
let look: Redis;
before(async () => {
  server = await startOwnRedis();
  look = new Redis(server.url, { lazyConnect: true, retryStrategy: () => 50 });
  look.on('error', () => {});
});
after(async () => {
  look.disconnect();
  await server.stop();
});

async function open(mode: FailureMode, states: RedisState[] = []): Promise<RedisCounters> {
  return RedisCounters.open({
    url: server.url, keyPrefix: `t-${mode}:`, commandTimeoutMs: TIMEOUT_MS, onFailure: mode, probeMs: 50,
    onStateChange: (state) => states.push(state),
  });
}

/** Bounded poll: the machine is loaded, so conditions are waited for, never timed. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`gave up waiting for ${what}`);
}

/** A call that must not hang past the command timeout (test/helpers/redis-server.ts). */
const bounded = <T>(call: Promise<T>): Promise<T> => boundedBy(call, TIMEOUT_MS);

test('on_failure open: killed Redis → local counts, degraded; back on the same port → Redis again', async () => {
  const states: RedisState[] = [];
  const store = await open('open', states);
  const minute = windowOf('minute', Date.now());
  assert.equal((await store.increment('rpm:k', 1, 3, minute)).degraded, false);
  const held = await store.reserve('usd:k', 5, 10, minute);
  assert.equal(held.degraded, false);

  await server.kill();
  await until('the drop to be noticed', async () => (await bounded(store.increment('rpm:k', 1, 3, minute))).degraded);
  assert.ok(store.state() !== 0);
  const local = [await bounded(store.increment('rpm:k', 2, 3, minute)), await bounded(store.increment('rpm:k', 1, 3, minute))];
  assert.deepEqual(local.map((c) => [c.allowed, c.degraded]), [[true, true], [false, true]], 'the fallback enforces the limit locally');
  const fallbackHeld = await bounded(store.reserve('usd:k', 9, 10, minute));
  assert.deepEqual([fallbackHeld.granted, fallbackHeld.degraded], [true, true]);
  await bounded(store.settle(held, 4, minute));
  assert.equal(store.deferred(), 1, 'the Redis reservation waits for Redis');
  assert.ok(store.size() > 0, 'the fallback holds counters');
  const slot = await bounded(store.acquire('par:k', 1, 10_000));
  assert.deepEqual([slot.allowed, slot.degraded], [true, true]);
  assert.ok(states.includes(2) || states.includes(1));

  await server.restart();
  await until('state 0 after the restart', () => store.state() === 0);
  await until('the deferred settle to be replayed', () => store.deferred() === 0);
  await look.connect().catch(() => {});
  assert.equal(await look.hget(`t-open:c:usd:k:${minute.start}`, 's'), '4', 'the replayed settle charged Redis');
  const again = await store.increment('rpm:k', 1, 3, minute);
  assert.deepEqual([again.allowed, again.count, again.degraded], [true, 1, false], 'counting in the (empty) Redis again');
  await store.settle(fallbackHeld, 2, minute);
  assert.equal(await look.hget(`t-open:c:usd:k:${minute.start}`, 's'), '4', 'the fallback reservation settled in the fallback');
  await store.release('par:k');
  assert.equal((await store.acquire('par:k', 1, 10_000)).degraded, false);
  assert.equal(states.at(-1), 0);
  await store.close();
});

test('on_failure closed: killed Redis → refusals, degraded, no throw; back → allowed again', async () => {
  const store = await open('closed');
  const day = windowOf('day', Date.now());
  assert.equal((await store.reserve('usd:k', 1, 10, day)).granted, true);
  await server.kill();
  await until('the drop to be noticed', async () => (await bounded(store.reserve('usd:k', 1, 10, day))).degraded);
  const refused = await bounded(store.reserve('usd:k', 1, 10, day));
  assert.deepEqual([refused.granted, refused.degraded], [false, true]);
  await bounded(store.settle(refused, 1, day));
  const counted = await bounded(store.increment('rpm:k', 1, 10, day));
  assert.deepEqual([counted.allowed, counted.degraded], [false, true]);
  const slot = await bounded(store.acquire('par:k', 5, 1_000));
  assert.deepEqual([slot.allowed, slot.degraded], [false, true]);
  await bounded(store.seed('usd:k', day, 3));
  await assert.rejects(bounded(store.ping()));
  assert.equal(store.size(), 0, 'closed: nothing counted locally');
  await server.restart();
  await until('state 0 after the restart', () => store.state() === 0);
  assert.deepEqual((await store.reserve('usd:k', 1, 10, day)).granted, true);
  await store.ping();
  await store.close();
});

test('a hung Redis: commands time out, state 2, answers degraded; it answers again → state 0', async () => {
  const states: RedisState[] = [];
  const store = await open('open', states);
  const minute = windowOf('minute', Date.now());
  assert.equal((await store.increment('rpm:hung', 1, 5, minute)).degraded, false);
  server.pause();
  try {
    const answer = await bounded(store.increment('rpm:hung', 1, 5, minute));
    assert.deepEqual([answer.allowed, answer.degraded], [true, true], 'timed out, answered by the fallback');
    assert.equal(store.state(), 2);
    const next = await bounded(store.increment('rpm:hung', 1, 5, minute));
    assert.equal(next.degraded, true, 'a known-down Redis is not waited on again');
  } finally {
    server.resume();
  }
  await until('the probe to find Redis back', () => store.state() === 0);
  assert.deepEqual(states.slice(-2), [2, 0]);
  assert.equal((await store.increment('rpm:hung', 1, 5, minute)).degraded, false);
  await store.close();
});

test('a Redis never reached: open() returns, calls answer degraded at once and mark it down', async () => {
  const states: RedisState[] = [];
  const store = await RedisCounters.open({
    url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: 'nobody:', commandTimeoutMs: TIMEOUT_MS, onFailure: 'open',
    onStateChange: (state) => states.push(state),
  });
  assert.equal(store.state(), 1, 'connecting');
  const answer = await bounded(store.reserve('usd:k', 1, 10, windowOf('day', Date.now())));
  assert.deepEqual([answer.granted, answer.degraded], [true, true]);
  assert.equal(store.state(), 2);
  assert.deepEqual(states, [2]);
  await store.close();
});
