// Writes the exposition: Prometheus text 0.0.4 or OpenMetrics 1.0.0, always through prom-client's own
// writers. Several snapshots (one per cluster worker) are combined with prom-client's aggregators, each
// metric by the `aggregator` its catalog entry declared.
import { AggregatorRegistry, Registry } from 'prom-client';
import { CATALOG, type MetricSpec } from './catalog.ts';

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

const WEIGHTED = Object.values(CATALOG as Record<string, MetricSpec>).filter((m) => m.weightedBy).map((m) => [m.name, m.weightedBy!] as const);
const WEIGHTS = CATALOG.sliEvents.name;

/**
 * The SLI ratio gauges: every worker's ratio weighted by the events it is over, written into each
 * snapshot so that their declared aggregator (`first`) reads the combined value. A worker with no
 * traffic then changes nothing, instead of pulling the average towards its 1.
 */
function weightRatios(snapshots: readonly Snapshot[]): readonly Snapshot[] {
  if (snapshots.length < 2) return snapshots;
  const combined = new Map<string, number>();
  for (const [name, sli] of WEIGHTED) {
    let weighted = 0, events = 0;
    for (const s of snapshots) {
      const ratio = s.find((m) => m.name === name)?.values[0]?.value;
      const weight = s.find((m) => m.name === WEIGHTS)?.values.find((v) => v.labels.sli === sli)?.value ?? 0;
      if (ratio === undefined) continue;
      weighted += ratio * weight;
      events += weight;
    }
    combined.set(name, events ? weighted / events : 1);
  }
  return snapshots.map((s) => s.map((m) => (combined.has(m.name) ? { ...m, values: m.values.map((v) => ({ ...v, value: combined.get(m.name)! })) } as MetricData : m)));
}

/** Combines snapshots (each metric by its declared aggregator) and writes them in `format`. */
export async function renderSnapshots(snapshots: readonly Snapshot[], format: MetricsFormat): Promise<Exposition> {
  const contentType = CONTENT_TYPES[format];
  const weighted = weightRatios(snapshots);
  const input = format === 'openmetrics' ? weighted.map(openMetricsNames) : weighted;
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
