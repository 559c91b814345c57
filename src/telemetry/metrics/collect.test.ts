import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SliWindow } from '../sli.ts';
import { installCollectors, type StoreFigures } from './collect.ts';
import { createMetrics } from './registry.ts';

/** The value of one sample line, by its exact name and label set as exposed. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function setup(store: () => StoreFigures = () => ({ store: 'sqlite', open: true, walBytes: 0, queued: 0, dropped: 0 })) {
  const metrics = createMetrics();
  const stop = installCollectors(metrics, { sli: new SliWindow({ windowSeconds: 60, latencyBudgetSeconds: 0.01 }), store });
  return { stop, text: () => metrics.registry.metrics() };
}

// nodejs_gc_duration_seconds is checked in test/e2e/metrics-catalog.test.ts, under traffic where collections
// happen on their own: forcing one here would test V8 rather than the collector.

test('vigil_usage_records_dropped_total follows the store\'s running drop count, by differences', async (t) => {
  let dropped = 0;
  const { stop, text } = setup(() => ({ store: 'sqlite', open: true, walBytes: 0, queued: 0, dropped }));
  t.after(stop);
  assert.equal(sample(await text(), 'vigil_usage_records_dropped_total'), 0);
  dropped = 3;
  assert.equal(sample(await text(), 'vigil_usage_records_dropped_total'), 3);
  assert.equal(sample(await text(), 'vigil_usage_records_dropped_total'), 3, 'a scrape with no new drops adds nothing');
  dropped = 10;
  assert.equal(sample(await text(), 'vigil_usage_records_dropped_total'), 10);
});
