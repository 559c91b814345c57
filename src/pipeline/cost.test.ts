import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attempt } from '../core/attempt.ts';
import { catalogPricing } from '../config/pricing-catalog.ts';
import { costOf } from './finish.ts';

test('cost: plain input, cache reads, cache writes and output each at their own price per million tokens', () => {
  const attempt = new Attempt({ name: 's', upstreamModel: 'claude-sonnet-4-5', providerId: 'a', deploymentId: 'test', type: 'chat', pricing: catalogPricing('claude-sonnet-4-5') });
  // 1000 input of which 300 read from the cache and 200 written to it; 100 output.
  attempt.usage = { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 300, cacheWriteTokens: 200 };
  const expected = (500 * 3 + 300 * 0.3 + 200 * 3.75 + 100 * 15) / 1e6;
  assert.ok(Math.abs(costOf(attempt) - expected) < 1e-15, `${costOf(attempt)} vs ${expected}`);
  attempt.usage = { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 300 }; // OpenAI: no cache writes
  assert.ok(Math.abs(costOf(attempt) - (700 * 3 + 300 * 0.3 + 100 * 15) / 1e6) < 1e-15);
  assert.equal(costOf(new Attempt({ name: 'x', upstreamModel: 'x', providerId: 'a', deploymentId: 'test', type: 'chat' })), 0, 'unpriced');
});
