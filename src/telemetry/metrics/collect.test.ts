import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SliWindow } from '../sli.ts';
import { installCollectors, type StoreFigures } from './collect.ts';
import { createMetrics } from './registry.ts';

/** A real garbage collection on demand, without restarting the test process under --expose-gc. */
function forceGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

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

test('nodejs_gc_duration_seconds: a forced major collection is observed, by kind, with its pause', async (t) => {
  const { stop, text } = setup();
  t.after(stop);
  const gc = forceGc();
  const before = sample(await text(), 'nodejs_gc_duration_seconds_count{kind="major"}') ?? 0;
  const sumBefore = sample(await text(), 'nodejs_gc_duration_seconds_sum{kind="major"}') ?? 0;
  gc();
  gc();
  // PerformanceObserver delivers its entries asynchronously, after the collection.
  let after = before;
  for (let waited = 0; after < before + 2 && waited < 2000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
    after = sample(await text(), 'nodejs_gc_duration_seconds_count{kind="major"}') ?? 0;
  }
  assert.ok(after - before >= 2, `two forced full collections, ${after - before} major observations`);
  const out = await text();
  const pause = sample(out, 'nodejs_gc_duration_seconds_sum{kind="major"}')! - sumBefore;
  assert.ok(pause > 0 && pause < 5, `two major pauses took ${pause} s`);
  assert.ok(sample(out, 'nodejs_gc_duration_seconds_bucket{le="+Inf",kind="major"}')! >= after);
});

test('nodejs_gc_duration_seconds: allocation alone triggers minor collections the observer counts', async (t) => {
  const { stop, text } = setup();
  t.after(stop);
  const count = async () => sample(await text(), 'nodejs_gc_duration_seconds_count{kind="minor"}') ?? 0;
  const before = await count();
  let keep: unknown[] = [];
  for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${i}` }); // well past the young generation's size
  keep = [];
  let after = before;
  for (let waited = 0; after === before && waited < 2000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
    after = await count();
  }
  assert.ok(after > before, `minor collections ${before} → ${after}`);
  assert.equal(keep.length, 0);
});

test('stopping the collectors disconnects the GC observer', async () => {
  const { stop, text } = setup();
  stop();
  const gc = forceGc();
  const before = sample(await text(), 'nodejs_gc_duration_seconds_count{kind="major"}') ?? 0;
  gc();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sample(await text(), 'nodejs_gc_duration_seconds_count{kind="major"}') ?? 0, before);
});

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
