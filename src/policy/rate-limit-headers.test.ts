import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addLimitHeaders, formatReset, retryAfterSeconds } from './rate-limit-headers.ts';

test('resets in OpenAI\'s duration form', () => {
  assert.equal(formatReset(250), '250ms');
  assert.equal(formatReset(0.2), '1ms');
  assert.equal(formatReset(1000), '1s');
  assert.equal(formatReset(1500), '1.5s');
  assert.equal(formatReset(360_000), '6m0s');
  assert.equal(formatReset(3_723_000), '1h2m3s');
  assert.equal(formatReset(-5), '0ms');
});

test('Retry-After is whole seconds, at least 1; the triple says limit, remaining (never negative) and reset', () => {
  assert.equal(retryAfterSeconds(10_500, 10_000), 1);
  assert.equal(retryAfterSeconds(10_000, 10_000), 1);
  assert.equal(retryAfterSeconds(15_001, 10_000), 6);
  const headers: Record<string, string> = {};
  addLimitHeaders(headers, 'tokens', 100, 130, 61_000, 1000);
  assert.deepEqual(headers, { 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1m0s' });
});
