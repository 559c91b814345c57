// RedisResponseCache on the machine's Redis (a prefix of its own, deleted after) and on a redis-server of
// this test's own that it kills and pauses: a dead or hung Redis is a miss and a skipped store, never a
// throw, never a wait past the command timeout; the cache works again once Redis is back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deletePrefix, inspector, SHARED_REDIS_URL, uniquePrefix } from '../../../test/helpers/redis-keys.ts';
import { bounded as boundedBy, type OwnRedis, startOwnRedis } from '../../../test/helpers/redis-server.ts';
import type { CachedAnswer } from '../ports.ts';
import { RedisResponseCache } from './response-cache.ts';

const TIMEOUT_MS = 300;
const ANSWER: CachedAnswer = {
  body: '{"id":"chatcmpl-1","choices":[{"message":{"content":"héllo\\nworld"}}]}\n',
  usage: { inputTokens: 12, outputTokens: 7, cachedInputTokens: 2 },
  deploymentId: 'openai:gpt-4o-mini',
};

const prefix = uniquePrefix();
let own: OwnRedis;
before(async () => {
  own = await startOwnRedis();
});
after(async () => {
  await own.stop();
  await deletePrefix(prefix);
});

/** A call that must not hang past the command timeout (test/helpers/redis-server.ts). */
const bounded = <T>(call: Promise<T>): Promise<T> => boundedBy(call, TIMEOUT_MS);

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`gave up waiting for ${what}`);
}

test('stores under <prefix>cache:<key> with a PX expiry and answers the same bytes, usage and deployment', async () => {
  const operations: string[] = [];
  const cache = await RedisResponseCache.open({
    url: SHARED_REDIS_URL, keyPrefix: prefix, commandTimeoutMs: TIMEOUT_MS, maxEntryBytes: 1024, onQuery: (op) => operations.push(op),
  });
  const look = inspector();
  try {
    assert.equal(await cache.get('k1'), undefined, 'nothing stored yet');
    await cache.set('k1', ANSWER, 60_000);
    assert.deepEqual(await cache.get('k1'), ANSWER);
    const ttl = await look.pttl(`${prefix}cache:k1`);
    assert.ok(ttl > 0 && ttl <= 60_000, `expiry set in Redis (${ttl} ms left)`);
    assert.deepEqual(operations, ['cache_get', 'cache_set', 'cache_get']);
    assert.equal(cache.size(), 0, 'Redis holds the entries: not counted as this process\'s');

    await cache.set('k2', ANSWER, 30);
    await until('the 30 ms entry to expire in Redis', async () => (await look.exists(`${prefix}cache:k2`)) === 0);
    assert.equal(await cache.get('k2'), undefined);

    await cache.set('big', { ...ANSWER, body: 'x'.repeat(1025) }, 60_000);
    assert.equal(await look.exists(`${prefix}cache:big`), 0, 'over max_entry_bytes: not stored');

    await look.set(`${prefix}cache:junk`, 'not what the adapter writes');
    await look.set(`${prefix}cache:junk2`, '{"x":1}\n{}');
    assert.equal(await cache.get('junk'), undefined, 'a value it cannot read is a miss');
    assert.equal(await cache.get('junk2'), undefined);
  } finally {
    look.disconnect();
    await cache.close();
  }
});

test('killed Redis: misses and skipped stores, no throw, no hang; back on the same port: cached again', async () => {
  const cache = await RedisResponseCache.open({ url: own.url, keyPrefix: 't:', commandTimeoutMs: TIMEOUT_MS, maxEntryBytes: 1024 });
  try {
    await cache.set('k', ANSWER, 60_000);
    assert.deepEqual(await cache.get('k'), ANSWER);
    await own.kill();
    assert.equal(await bounded(cache.get('k')), undefined, 'a dead Redis is a miss');
    await bounded(cache.set('k', ANSWER, 60_000));
    await own.restart(); // empty, like a lost cache
    await until('the cache to reconnect and store again', async () => {
      await cache.set('k', ANSWER, 60_000);
      return (await cache.get('k')) !== undefined;
    });
  } finally {
    await cache.close();
  }
});

test('hung Redis (SIGSTOP): a lookup gives up at the command timeout as a miss, a store is skipped', async () => {
  const cache = await RedisResponseCache.open({ url: own.url, keyPrefix: 't2:', commandTimeoutMs: TIMEOUT_MS, maxEntryBytes: 1024 });
  try {
    await cache.set('k', ANSWER, 60_000);
    own.pause();
    try {
      assert.equal(await bounded(cache.get('k')), undefined);
      await bounded(cache.set('k2', ANSWER, 60_000));
    } finally {
      own.resume();
    }
    await until('Redis to answer again', async () => (await cache.get('k')) !== undefined);
  } finally {
    await cache.close();
  }
});
