// Builds an explicit prom-client registry from the catalog (never the library's global one).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CATALOG, type MetricSpec } from './catalog.ts';

type Instruments = { [K in keyof typeof CATALOG]: (typeof CATALOG)[K]['type'] extends 'counter' ? Counter : (typeof CATALOG)[K]['type'] extends 'gauge' ? Gauge : Histogram };

export interface Metrics {
  readonly registry: Registry;
  readonly instruments: Instruments;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const instruments = {} as Record<string, Counter | Gauge | Histogram>;
  for (const [key, spec] of Object.entries(CATALOG) as [string, MetricSpec][]) {
    // Cluster mode combines workers' values by this; a gauge without a declared meaning is a catalog bug.
    if (spec.type === 'gauge' && !spec.aggregate) throw new Error(`catalog: gauge ${spec.name} declares no aggregate`);
    const common = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry], aggregator: spec.aggregate ?? 'sum' };
    instruments[key] = spec.type === 'counter' ? new Counter(common)
      : spec.type === 'gauge' ? new Gauge(common)
        : new Histogram({ ...common, buckets: [...spec.buckets!] });
  }
  return { registry, instruments: instruments as Instruments };
}
