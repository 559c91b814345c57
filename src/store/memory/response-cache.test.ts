import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CachedAnswer } from '../ports.ts';
import { MemoryResponseCache } from './response-cache.ts';

function answer(body: string): CachedAnswer {
  return { body, usage: { inputTokens: 3, outputTokens: 5, cachedInputTokens: 1 }, deploymentId: 'mock:m' };
}

function clocked(maxEntries = 10, maxEntryBytes = 1024) {
  let now = 1_000_000;
  const cache = new MemoryResponseCache({ maxEntries, maxEntryBytes, now: () => now });
  return { cache, advance: (ms: number) => { now += ms; } };
}

test('an answer is found under its key until its TTL ends, then it is gone', () => {
  const { cache, advance } = clocked();
  const stored = answer('{"a":1}');
  cache.set('k', stored, 1000);
  assert.equal(cache.get('k'), stored, 'the stored object itself');
  assert.equal(cache.get('other'), undefined);
  advance(999);
  assert.equal(cache.get('k'), stored, 'one ms before the TTL ends');
  advance(1);
  assert.equal(cache.get('k'), undefined, 'expired at its TTL');
  assert.equal(cache.size(), 0, 'the expired entry was dropped by its lookup');
});

test('past max_entries the least recently used entry goes; a lookup makes an entry recent', () => {
  const { cache } = clocked(3);
  cache.set('a', answer('a'), 60_000);
  cache.set('b', answer('b'), 60_000);
  cache.set('c', answer('c'), 60_000);
  assert.ok(cache.get('a'), 'a is now the most recently used');
  cache.set('d', answer('d'), 60_000);
  assert.equal(cache.size(), 3);
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.deepEqual(['a', 'c', 'd'].map((k) => cache.get(k)?.body), ['a', 'c', 'd']);
});

test('storing a key again replaces its answer and TTL without growing the cache', () => {
  const { cache, advance } = clocked(2);
  cache.set('a', answer('old'), 1000);
  cache.set('b', answer('b'), 60_000);
  advance(900);
  cache.set('a', answer('new'), 1000);
  assert.equal(cache.size(), 2);
  advance(500);
  assert.equal(cache.get('a')?.body, 'new', 'the new TTL runs from the second store');
  assert.equal(cache.get('b')?.body, 'b', 'replacing a did not evict b');
});

test('answers over max_entry_bytes (UTF-8 bytes, not characters) are not kept; a zero TTL keeps nothing', () => {
  const { cache } = clocked(10, 8);
  cache.set('fits', answer('12345678'), 1000);
  cache.set('big', answer('123456789'), 1000);
  cache.set('wide', answer('ééééé'), 1000); // 5 characters, 10 bytes
  cache.set('zero', answer('1'), 0);
  assert.equal(cache.get('fits')?.body, '12345678');
  assert.equal(cache.get('big'), undefined);
  assert.equal(cache.get('wide'), undefined);
  assert.equal(cache.get('zero'), undefined);
  assert.equal(cache.size(), 1);
});

test('size counts expired entries until a lookup or an eviction drops them', () => {
  const { cache, advance } = clocked(2);
  cache.set('a', answer('a'), 10);
  cache.set('b', answer('b'), 10);
  advance(20);
  assert.equal(cache.size(), 2);
  cache.set('c', answer('c'), 10);
  assert.equal(cache.size(), 2, 'the bound holds with expired entries in it');
  assert.equal(cache.get('a'), undefined);
});
