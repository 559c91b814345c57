// Writes the exposition: Prometheus text 0.0.4 or OpenMetrics 1.0.0, always through prom-client's own
// writers. Several snapshots (one per cluster worker) are combined with prom-client's aggregators, each
// metric by the `aggregator` its catalog entry declared.
import { AggregatorRegistry, Registry } from 'prom-client';

export type MetricsFormat = 'prometheus' | 'openmetrics';

export interface Exposition {
  contentType: string;
  body: string;
}

/** One process's metrics as plain data (`registry.getMetricsAsJSON()`), safe to send over IPC. */
export type Snapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
type MetricData = Snapshot[number];

export const CONTENT_TYPES: Record<MetricsFormat, string> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

export const snapshot = (registry: Registry): Promise<Snapshot> => registry.getMetricsAsJSON();

// The typings omit aggregate()'s second parameter, the content type of the registry it returns.
const Aggregator = AggregatorRegistry as unknown as { aggregate(metrics: readonly Snapshot[], contentType?: string): Registry };

const isType = (metric: MetricData, type: string) => (metric.type as unknown) === type;

/**
 * prom-client's OpenMetrics writer appends `_total` to counter samples and expects the family name
 * without it; for a live registry it strips the suffix by mutating the counter (so one registry cannot
 * serve both formats), and for aggregated data it does not strip it at all (`x_total_total`). Giving it
 * the family name up front keeps the live registry untouched and the output valid.
 */
const openMetricsNames = (metrics: Snapshot): Snapshot =>
  metrics.map((m) => (isType(m, 'counter') && m.name.endsWith('_total') ? { ...m, name: m.name.slice(0, -'_total'.length) } : m));

/** Combines snapshots (each metric by its declared aggregator) and writes them in `format`. */
export async function renderSnapshots(snapshots: readonly Snapshot[], format: MetricsFormat): Promise<Exposition> {
  const contentType = CONTENT_TYPES[format];
  const input = format === 'openmetrics' ? snapshots.map(openMetricsNames) : snapshots;
  return { contentType, body: await Aggregator.aggregate(input, contentType).metrics() };
}

/** A single process: Prometheus text straight from the live registry; OpenMetrics through a snapshot. */
export async function renderLocal(registry: Registry, format: MetricsFormat): Promise<Exposition> {
  if (format === 'prometheus') return { contentType: registry.contentType, body: await registry.metrics() };
  return renderSnapshots([await snapshot(registry)], format);
}

/**
 * The running totals of processes that are gone: their counters and histograms (gauges die with the
 * process). Merged synchronously, so a scrape never sees a worker both alive and retired.
 */
export function retire(retired: Snapshot, last: Snapshot): Snapshot {
  const monotonic = last.filter((m) => !isType(m, 'gauge'));
  const merged = Aggregator.aggregate([retired, monotonic]).getMetricsAsArray();
  // aggregate() registers plain wrappers whose get() returns the merged data synchronously.
  return merged.map((m) => (m as unknown as { get(): MetricData }).get());
}
