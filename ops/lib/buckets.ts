// `le` values for rules: a latency bound is exact in PromQL only when it is a bucket bound of the
// histogram, so a bound that is not one fails the generator (and `vigil rules render`) instead of
// silently rounding.
import { CATALOG, type MetricKey } from '../../src/telemetry/metrics/catalog.ts';

export function formatLe(key: MetricKey, seconds: number): string {
  const spec = CATALOG[key];
  const buckets: readonly number[] = 'buckets' in spec ? spec.buckets : [];
  if (!buckets.includes(seconds)) {
    throw new Error(`${seconds} s is not a bucket bound of ${spec.name} (${buckets.join(', ')}): an SLO or APDEX bound must be one`);
  }
  return String(seconds); // how prom-client writes `le`
}
