import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogPricing, PRICING_CATALOG } from './pricing-catalog.ts';

test('every catalog entry prices input, output, cached input and cache writes', () => {
  assert.equal(PRICING_CATALOG.size, 20);
  for (const [model, price] of PRICING_CATALOG) {
    for (const field of ['input', 'output', 'cachedInput', 'cacheWrite'] as const) assert.ok(Number.isFinite(price[field]) && price[field] >= 0, `${model}.${field}`);
    assert.ok(price.cachedInput <= price.input, model);
  }
});

test('matched by upstream name, dated snapshots and aliases included; the longest name is not shadowed', () => {
  assert.deepEqual(catalogPricing('claude-sonnet-4-20250514'), { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 });
  assert.deepEqual(catalogPricing('gpt-4o-2024-08-06'), { input: 2.5, output: 10, cachedInput: 1.25, cacheWrite: 2.5 });
  assert.equal(catalogPricing('gpt-4o-mini-2024-07-18')!.input, 0.15);
  assert.equal(catalogPricing('claude-opus-4-1-20250805')!.input, 15);
  assert.equal(catalogPricing('claude-3-7-sonnet-latest')!.output, 15);
  assert.equal(catalogPricing('claude-opus-4-0')!.input, 15);
  assert.equal(catalogPricing('claude-haiku-4-5-20251001')!.cacheWrite, 1.25);
  assert.equal(catalogPricing('claude-3-5-haiku-20241022')!.cachedInput, 0.08);
  assert.equal(catalogPricing('text-embedding-3-small')!.output, 0);
  assert.equal(catalogPricing('my-local-llama'), undefined);
  assert.equal(catalogPricing('gpt-4o-mini-extra'), undefined);
});
