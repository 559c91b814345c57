// Recording rules beside the SLOs: latency quantiles, APDEX and the business figures of seeds 001 and
// 004. Each list is data; a new histogram or counter is one line.
import type { MetricKey } from '../src/telemetry/metrics/catalog.ts';
import type { OpsConfig } from './config.ts';
import { formatLe } from './lib/buckets.ts';
import { metric, q, ruleName, type Group, type RecordingRule } from './lib/model.ts';

/** Histograms whose p50/p95/p99 dashboards and alerts read, by the labels they are split by. */
const QUANTILES: [MetricKey, string[]][] = [
  ['httpDuration', ['route']],
  ['gatewayOverhead', ['route']],
  ['llmDuration', ['provider', 'model']],
  ['llmTimeToFirstToken', ['provider', 'model']],
  ['upstreamQueueWait', ['provider']],
];

/** Hourly and daily sums of counters, by the labels billing and capacity planning group by. */
const BUSINESS: { key: MetricKey; by: string[]; window: '1h' | '1d'; filter?: string; suffix?: string }[] = [
  { key: 'llmCalls', by: ['provider', 'model'], window: '1h' },
  { key: 'llmTokens', by: ['provider', 'model', 'type'], window: '1h' },
  { key: 'llmCost', by: ['provider', 'model'], window: '1h' },
  { key: 'identityCost', by: ['identity'], window: '1h' }, // only when metrics.identity_cost is on
  { key: 'llmCalls', by: ['provider', 'model'], window: '1d', filter: '{outcome="success"}', suffix: 'billable_' },
];

export const quantileRule = (key: MetricKey, by: string[], p: number) => ruleName(by, key, `p${p}_rate5m`);

export function latencyGroup(config: OpsConfig): Group {
  const rules: RecordingRule[] = QUANTILES.flatMap(([key, by]) => [50, 95, 99].map((p) => ({
    record: quantileRule(key, by, p),
    expr: q`histogram_quantile(${p / 100}, sum by (${[...by, 'le'].join(', ')}) (rate(${metric(key)}_bucket[5m])))`,
  })));
  // APDEX (seed 001): (satisfied + tolerating) / 2 / all, where the tolerating bucket includes the satisfied.
  const { satisfiedSeconds: s, toleratingSeconds: tol } = config.apdex;
  const h = metric('httpDuration');
  const bucket = (le: number) => q`sum by (route) (rate(${h}_bucket{route=~"${config.selectors.apiRoutes}",le="${formatLe('httpDuration', le)}"}[5m]))`;
  rules.push({
    record: ruleName(['route'], 'httpDuration', 'apdex_rate5m'),
    expr: q`(${bucket(s)} + ${bucket(tol)}) / 2 / sum by (route) (rate(${h}_count{route=~"${config.selectors.apiRoutes}"}[5m]))`,
    labels: { satisfied_seconds: String(s), tolerating_seconds: String(tol) },
  });
  return { name: 'vigil-latency', rules };
}

export function businessGroup(): Group {
  return {
    name: 'vigil-business',
    interval: '5m', // hourly and daily sums move slowly
    rules: BUSINESS.map(({ key, by, window, filter = '', suffix = '' }) => ({
      record: ruleName(by, key, `${suffix}increase${window}`),
      expr: q`sum by (${by.join(', ')}) (increase(${metric(key)}${filter}[${window}]))`,
    })),
  };
}
