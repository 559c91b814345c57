// How long one /metrics scrape takes to render at about 1,000 and 10,000 series, in both formats and
// for a two-worker cluster aggregate. Run: node bench/micro/metrics-render.bench.ts — no assertions.
import { renderLocal, renderSnapshots, snapshot, type MetricsFormat } from '../../src/telemetry/metrics/exposition.ts';
import { Recorder } from '../../src/telemetry/metrics/record.ts';
import { createMetrics } from '../../src/telemetry/metrics/registry.ts';
import { testContext } from '../../test/helpers/context.ts';


/** A registry with traffic for `count` configured models: per model, token types, histograms and tool calls. */
function populated(count: number) {
  const models = Array.from({ length: count }, (_, i) => `model-${i}`);
  const metrics = createMetrics();
  const recorder = new Recorder(metrics, { version: 'bench', commit: 'bench', models, maxSeriesPerMetric: 1_000_000 });
  for (const [i, model] of models.entries()) {
    const ctx = testContext({ target: { name: model, upstreamModel: model, providerId: `provider-${i % 5}`, deploymentId: `provider-${i % 5}`, type: 'chat', pricing: { input: 1, output: 2, cachedInput: 0.5, cacheWrite: 1.25 } }, attempt: true });
    const attempt = ctx.attempt!;
    attempt.startedAt = 0.1;
    attempt.status = 200;
    attempt.firstTokenAt = 0.2;
    attempt.usage = { inputTokens: 10, outputTokens: 5, cachedInputTokens: 2 };
    ctx.toolCalls = ['search', 'fetch'];
    recorder.requestStarted(ctx.route);
    recorder.requestFinished(ctx, 0.01);
  }
  return metrics;
}

async function time(label: string, runs: number, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 3; i++) await fn();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  console.log(`${label.padEnd(52)} ${((performance.now() - started) / runs).toFixed(2).padStart(8)} ms/scrape`);
}

const seriesOf = async (metrics: ReturnType<typeof createMetrics>) =>
  (await renderLocal(metrics.registry, 'prometheus')).body.split('\n').filter((l) => l && !l.startsWith('#')).length;
// Series grow linearly with models: two sizes give the fixed part and the per-model part, so the two
// registries below land on ~1,000 and ~10,000 series.
const [at10, at20] = [await seriesOf(populated(10)), await seriesOf(populated(20))];
const perModel = (at20 - at10) / 10;
for (const target of [1_000, 10_000]) {
  const metrics = populated(Math.max(1, Math.round((target - (at10 - 10 * perModel)) / perModel)));
  const lines = await seriesOf(metrics);
  for (const format of ['prometheus', 'openmetrics'] as MetricsFormat[]) {
    await time(`${lines} series, ${format}`, 20, () => renderLocal(metrics.registry, format));
  }
  const snap = await snapshot(metrics.registry);
  await time(`${lines} series, 2-worker aggregate, prometheus`, 20, () => renderSnapshots([snap, snap], 'prometheus'));
}

// Runtime metrics: prom-client's default set against the catalog's deliberate few (collect.ts), each alone
// in a registry, so the scrape-time cost of each choice shows.
{
  const { Registry, collectDefaultMetrics } = await import('prom-client');
  const { installCollectors } = await import('../../src/telemetry/metrics/collect.ts');
  const { SliWindow } = await import('../../src/telemetry/sli.ts');
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  await time('runtime: prom-client collectDefaultMetrics', 200, () => defaults.metrics());
  const ours = createMetrics();
  const stop = installCollectors(ours, {
    sli: new SliWindow({ windowSeconds: 300, latencyBudgetSeconds: 0.01 }),
    store: () => ({ store: 'sqlite', open: true, walBytes: 0, queued: 0, dropped: 0 }),
  });
  await time('runtime: catalog collectors (whole catalog, no traffic)', 200, () => ours.registry.metrics());
  stop();
}
