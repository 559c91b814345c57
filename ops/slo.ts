// SLOs as data: each one is an error ratio over counters (never an average of ratios), recorded over
// every window the multi-window multi-burn-rate alerts need, plus its objective, burn rates and the
// error budget left over the period. Adding an SLO is one entry in `slos()`.
//
// Series names follow Sloth's (`slo:sli_error:ratio_rate<window>`, `slo:objective:ratio`,
// `slo:error_budget:ratio`) with Sloth's `sloth_service`/`sloth_slo`/`sloth_id` labels next to Vigil's
// `slo` label, so Sloth's Grafana dashboards read them; docs/runbooks/README.md maps them to Pyrra's.
import type { OpsConfig } from './config.ts';
import { lit, sub, type Num } from './lib/num.ts';
import { metric, params, q, type AlertRule, type Group, type RecordingRule, type Text } from './lib/model.ts';
import { formatLe } from './lib/buckets.ts';

/** Every window an SLO is recorded over: the burn-rate pairs' windows plus the 30-day period. */
export const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'] as const;
export type Window = (typeof WINDOWS)[number];
export const PERIOD: Window = '30d';

/** Google SRE workbook, ch. 5: a 30-day budget spent in 2 days (14.4×), 5 days (6×), 10 days (3×), 30 days (1×). */
export const BURN_PAIRS = [
  { severity: 'critical', factor: 14.4, long: '1h', short: '5m' },
  { severity: 'critical', factor: 6, long: '6h', short: '30m' },
  { severity: 'warning', factor: 3, long: '1d', short: '2h' },
  { severity: 'warning', factor: 1, long: '3d', short: '6h' },
] as const;

export interface Slo {
  /** The `slo` label value. */
  id: string;
  /** CamelCase, for alert names. */
  title: string;
  description: string;
  /** Sums by these labels (an SLI per series); SLOs with a target are global. */
  by?: string[];
  /** Target share of good events; without one only the SLI ratios are recorded. */
  target?: Num;
  /** Failed events per second over a window. */
  errors(window: string): Text;
  /** Valid events per second over a window. */
  total(window: string): Text;
}

export function slos(config: OpsConfig): Slo[] {
  const { t } = params(config);
  const api = `route=~"${config.selectors.apiRoutes}"`;
  const requests = metric('httpRequests');
  const apiTotal = (w: string) => q`sum(rate(${requests}{${api}}[${w}]))`;
  /** Events over a latency bound: all observations minus those in the bound's bucket. */
  const slowerThan = (key: 'gatewayOverhead' | 'llmDuration', le: number, filter: string, by = '') => ({
    errors: (w: string) => q`(sum${by}(rate(${metric(key)}_count{${filter}}[${w}])) - sum${by}(rate(${metric(key)}_bucket{${filter}${filter ? ',' : ''}le="${formatLe(key, le)}"}[${w}])))`,
    total: (w: string) => q`sum${by}(rate(${metric(key)}_count{${filter}}[${w}]))`,
  });
  return [
    {
      id: 'availability', title: 'Availability', target: t('availability'), total: apiTotal,
      description: 'API requests not failed by the gateway itself (outcome gateway_error); caller and provider errors do not count against it.',
      errors: (w) => q`sum(rate(${requests}{${api},outcome="gateway_error"}[${w}]))`,
    },
    {
      id: 'upstream', title: 'UpstreamAvailability', target: t('upstreamAvailability'), total: apiTotal,
      description: 'API requests not failed by an upstream provider (outcome provider_error): the providers\' reliability as clients see it.',
      errors: (w) => q`sum(rate(${requests}{${api},outcome="provider_error"}[${w}]))`,
    },
    {
      id: 'latency', title: 'Latency', target: t('latency'),
      description: `Proxied requests whose gateway-added time was at most ${config.latencyBudgetSeconds * 1000} ms.`,
      ...slowerThan('gatewayOverhead', config.latencyBudgetSeconds, api),
    },
    {
      id: 'llm-latency', title: 'LlmLatency', by: ['provider', 'model'],
      description: `Upstream model calls that took at most ${config.llmLatencySeconds} s, per provider and model.`,
      ...slowerThan('llmDuration', config.llmLatencySeconds, '', ' by (provider, model)'),
    },
  ];
}

const sloLabels = (slo: Slo) => ({ slo: slo.id, sloth_service: 'vigil', sloth_slo: slo.id, sloth_id: `vigil-${slo.id}` });
const sel = (slo: Slo) => `{slo="${slo.id}"}`;
export const errorRatio = (w: string) => `slo:sli_error:ratio_rate${w}`;
export const burnRate = (w: string) => `slo:burn_rate:ratio_rate${w}`;
export const BUDGET_REMAINING = 'slo:error_budget:remaining_ratio';

/** A ratio whose numerator may have no series yet (no error ever): 0, not "no data". */
function ratio(slo: Slo, w: string): Text {
  if (slo.by) return q`${slo.errors(w)} / ${slo.total(w)}`;
  return q`(${slo.errors(w)} or vector(0)) / ${slo.total(w)}`;
}

export function sliGroups(config: OpsConfig): Group[] {
  const all = slos(config);
  const sli = (windows: readonly string[]): RecordingRule[] => all.flatMap((slo) =>
    windows.map((w) => ({ record: errorRatio(w), expr: ratio(slo, w), labels: sloLabels(slo) })));
  const meta: RecordingRule[] = all.filter((s) => s.target).flatMap((slo) => {
    const budget = sub(lit(1), slo.target!);
    return [
      { record: 'slo:objective:ratio', expr: q`vector(${slo.target!})`, labels: sloLabels(slo) },
      { record: 'slo:error_budget:ratio', expr: q`vector(${budget})`, labels: sloLabels(slo) },
      ...WINDOWS.map((w) => ({ record: burnRate(w), expr: q`${errorRatio(w)}${sel(slo)} / ${budget}`, labels: sloLabels(slo) })),
      { record: BUDGET_REMAINING, expr: q`1 - ${burnRate(PERIOD)}${sel(slo)}`, labels: sloLabels(slo) },
    ];
  });
  return [
    { name: 'vigil-slo-sli', rules: sli(WINDOWS.filter((w) => w !== PERIOD)) },
    // 30 days of raw counters per evaluation: exact, and cheap enough every 5 minutes.
    { name: 'vigil-slo-sli-period', interval: '5m', rules: sli([PERIOD]) },
    { name: 'vigil-slo-budget', rules: meta },
  ];
}

/** Multi-window multi-burn-rate alerts (one rule per pair, Pyrra-style), guarded against low traffic. */
export function burnAlerts(config: OpsConfig, slo: Slo, fixtures: (slo: Slo) => AlertRule['tests'][]): AlertRule[] {
  const { t, f } = params(config);
  const guard = q`sum(rate(${metric('httpRequests')}{route=~"${config.selectors.apiRoutes}"}[1h])) >= ${t('sloMinRequestRate')}`;
  const tests = fixtures(slo);
  return BURN_PAIRS.map((pair, i) => ({
    alert: `Vigil${slo.title}BudgetBurn`,
    expr: q`${burnRate(pair.long)}${sel(slo)} > ${pair.factor} and ${burnRate(pair.short)}${sel(slo)} > ${pair.factor} and on() ${guard}`,
    for: f(pair.severity === 'critical' ? 'sloPage' : 'sloTicket'),
    severity: pair.severity,
    labels: { long_window: pair.long, short_window: pair.short, burn_factor: String(pair.factor) },
    summary: `The ${slo.id} SLO is spending its error budget too fast.`,
    description: q`{{ $labels.slo }}: over the last ${pair.long} (and still over the last ${pair.short}) the error budget burns at {{ $value | humanize }}x the rate that would spend it in 30 days; at this pace ${pair.factor}x spends it in ${burnDays(pair.factor)}.`,
    dashboard: 'slo',
    tests: tests[i],
  }));
}

const burnDays = (factor: number) => {
  const hours = (30 * 24) / factor;
  return hours < 72 ? `${Math.round(hours)} hours` : `${Math.round(hours / 24)} days`;
};

export function budgetAlerts(config: OpsConfig): Omit<AlertRule, 'tests'>[] {
  const { t, f } = params(config);
  return [
    {
      alert: 'VigilErrorBudgetLow', severity: 'warning', for: f('warning'), dashboard: 'slo',
      expr: q`${BUDGET_REMAINING} < ${t('errorBudgetLow')}`,
      summary: 'An SLO has spent most of its 30-day error budget.',
      description: q`{{ $labels.slo }}: {{ $value | humanizePercentage }} of the 30-day error budget is left (alert below ${t('errorBudgetLow')}). Slow down risky changes.`,
    },
    {
      alert: 'VigilErrorBudgetExhausted', severity: 'critical', for: f('critical'), dashboard: 'slo',
      expr: q`${BUDGET_REMAINING} < ${t('errorBudgetExhausted')}`,
      summary: 'An SLO has spent its 30-day error budget.',
      description: q`{{ $labels.slo }}: {{ $value | humanizePercentage }} of the 30-day error budget is left (alert below ${t('errorBudgetExhausted')}). Freeze changes that are not fixes.`,
    },
  ];
}
