// RedisCounters on the machine's Redis: the same arithmetic as the memory store, shared by instances, and
// the keys, expiries and observations the design names.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { deletePrefix, inspector, SHARED_REDIS_URL, uniquePrefix } from '../../../test/helpers/redis-keys.ts';
import { windowOf } from '../../core/windows.ts';
import { RedisCounters, type RedisCountersOptions } from './counters.ts';

const redis = inspector();
const opened: { counters: RedisCounters; prefix: string }[] = [];
after(async () => {
  for (const { counters, prefix } of opened) {
    await counters.close();
    await deletePrefix(prefix);
  }
  redis.disconnect();
});

async function counters(prefix = uniquePrefix(), extra: Partial<RedisCountersOptions> = {}): Promise<RedisCounters> {
  const store = await RedisCounters.open({ url: SHARED_REDIS_URL, keyPrefix: prefix, commandTimeoutMs: 2_000, onFailure: 'closed', ...extra });
  opened.push({ counters: store, prefix });
  return store;
}

test('increment counts in a window hash that expires a minute after the window ends', async () => {
  const prefix = uniquePrefix();
  const store = await counters(prefix);
  const minute = windowOf('minute', Date.now());
  assert.deepEqual(await store.increment('rpm:k', 2, 3, minute), { allowed: true, count: 2, resetAt: minute.end, degraded: false });
  assert.deepEqual(await store.increment('rpm:k', 2, 3, minute), { allowed: false, count: 2, resetAt: minute.end, degraded: false });
  const key = `${prefix}c:rpm:k:${minute.start}`;
  assert.equal(await redis.hget(key, 's'), '2');
  assert.equal(await redis.call('PEXPIRETIME', key), minute.end + 60_000);
  assert.equal(store.state(), 0);
  assert.equal(store.size(), 0, 'nothing held in memory while Redis answers');
});

test('reserve and settle replace the worst case by the actual spend, fractions of a dollar included', async () => {
  const store = await counters();
  const day = windowOf('day', Date.now());
  const first = await store.reserve('usd:k:day', 0.6, 1, day);
  assert.deepEqual([first.granted, first.used, first.degraded], [true, 0.6, false]);
  assert.equal((await store.reserve('usd:k:day', 0.5, 1, day)).granted, false);
  await store.settle(first, 0.25, day);
  const second = await store.reserve('usd:k:day', 0.75, 1, day);
  assert.equal(second.granted, true);
  assert.equal(second.used, 1);
  await store.settle(second, 0.9, day);
  assert.ok(Math.abs((await store.increment('usd:k:day', 0, 10, day)).count - 1.15) < 1e-9, 'the overshoot is charged');
  await store.settle({ ...second, granted: false }, 5, day);
  assert.ok(Math.abs((await store.increment('usd:k:day', 0, 10, day)).count - 1.15) < 1e-9, 'a refused reservation settles nothing');
});

test('a settle after the window ended releases the old window and charges the current one', async () => {
  const prefix = uniquePrefix();
  const store = await counters(prefix);
  // Windows of their own making: a real ended one's hash would already have expired.
  const now = Date.now();
  const yesterday = { start: now - 60_000, end: now + 60_000 };
  const today = { start: now + 60_000, end: now + 120_000 };
  const held = await store.reserve('usd:k:day', 4, 10, yesterday);
  await store.settle(held, 3, today);
  assert.equal(await redis.hget(`${prefix}c:usd:k:day:${yesterday.start}`, 'r'), '0');
  assert.equal(await redis.hget(`${prefix}c:usd:k:day:${today.start}`, 's'), '3');
  assert.equal(await redis.call('PEXPIRETIME', `${prefix}c:usd:k:day:${today.start}`), today.end + 60_000);
});

test('seed sets a window nobody counted in yet, once, across instances', async () => {
  const prefix = uniquePrefix();
  const [a, b] = [await counters(prefix), await counters(prefix)];
  const month = windowOf('month', Date.now());
  await a.seed('usd:u:month', month, 8);
  await b.seed('usd:u:month', month, 1);
  assert.equal((await b.reserve('usd:u:month', 3, 10, month)).granted, false);
  assert.equal((await a.reserve('usd:u:month', 2, 10, month)).used, 10);
});

test('acquire holds a slot across instances, renews its ttl, and release frees it', async () => {
  const prefix = uniquePrefix();
  const [a, b] = [await counters(prefix), await counters(prefix)];
  assert.equal((await a.acquire('par:k', 2, 5_000)).allowed, true);
  const second = await b.acquire('par:k', 2, 60_000);
  assert.deepEqual([second.allowed, second.count], [true, 2]);
  const ttl = await redis.pttl(`${prefix}p:par:k`);
  assert.ok(ttl > 5_000 && ttl <= 60_000, `the last acquire renewed the ttl (${ttl} ms)`);
  const refused = await a.acquire('par:k', 2, 5_000);
  assert.deepEqual([refused.allowed, refused.count, refused.degraded], [false, 2, false]);
  assert.ok(refused.resetAt > Date.now() + 5_000, 'resetAt: when the holders would be forgotten');
  await a.release('par:k');
  assert.equal((await b.acquire('par:k', 2, 5_000)).allowed, true);
  await a.release('par:k');
  await b.release('par:k');
  assert.equal(await redis.exists(`${prefix}p:par:k`), 0, 'the key goes with its last holder');
});

test('each script and ping is observed as a store operation', async () => {
  const seen: string[] = [];
  const store = await counters(uniquePrefix(), { onQuery: (operation, seconds) => { assert.ok(seconds >= 0); seen.push(operation); } });
  await store.increment('rpm:k', 1, 5, windowOf('minute', Date.now()));
  await store.ping();
  assert.deepEqual(seen, ['counter', 'ping']);
});
