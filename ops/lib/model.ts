// The shapes the generators build: rule groups whose expressions and annotations are Text, i.e. strings
// with exact numbers (Num) embedded, so one definition renders both the plain and the Helm rule files.
import { CATALOG, type MetricKey } from '../../src/telemetry/metrics/catalog.ts';
import type { Dashboard, ForKey, OpsConfig, ThresholdKey } from '../config.ts';
import { lit, value, type Num } from './num.ts';

export type Part = string | Num;
export interface Text { readonly parts: readonly Part[] }

const isNum = (v: unknown): v is Num => typeof v === 'object' && v !== null && 'plain' in v;
const isText = (v: unknown): v is Text => typeof v === 'object' && v !== null && 'parts' in v;

/** Template tag: q`sum(rate(x[5m])) > ${num}`; numbers embed as exact literals, Text nests. */
export function q(strings: TemplateStringsArray, ...values: (string | number | Num | Text)[]): Text {
  const parts: Part[] = [];
  strings.forEach((s, i) => {
    parts.push(s);
    if (i >= values.length) return;
    const v = values[i];
    if (isText(v)) parts.push(...v.parts);
    else if (isNum(v)) parts.push(v);
    else parts.push(typeof v === 'number' ? lit(v).plain : v);
  });
  return { parts };
}

/** The catalog's name of a metric: rules can only name metrics that exist (a type error otherwise). */
export const metric = (key: MetricKey): string => CATALOG[key].name;

/** `level:metric:operation`, the metric without `_total` (Prometheus' recording-rule convention). */
export function ruleName(levels: readonly string[], key: MetricKey | string, operation: string): string {
  const name = key in CATALOG ? metric(key as MetricKey) : key;
  return `${levels.join('_')}:${name.replace(/_total$/, '')}:${operation}`;
}

export interface RecordingRule { record: string; expr: Text; labels?: Record<string, string> }

/** A promtool case: input series (promtool's expanding notation) over `minutes`, evaluated at the end. */
export interface Case { series: Record<string, string>; minutes: number }

export type Firing = Case & { labels: Record<string, string>; value: string };

export interface AlertRule {
  alert: string;
  expr: Text;
  for: Num;
  severity: 'critical' | 'warning' | 'info';
  labels?: Record<string, string>;
  summary: string;
  /** Prometheus template text: `{{ $value }}`, `{{ $labels.x }}`. */
  description: Text;
  dashboard: Dashboard;
  /** Needs series from outside Vigil (kube-state-metrics, Prometheus' own `up`). */
  source?: string;
  tests: {
    /** Fires: the labels beyond severity and `labels`, and `$value` as the description shows it. */
    firing: Firing;
    /** More firing cases, for an expression with more than one way to fire (`a or b`). */
    alsoFiring?: Firing[];
    quiet: Case[];
  };
}

export type Rule = RecordingRule | AlertRule;
export interface Group { name: string; interval?: string; rules: Rule[] }
/** One rule file: its name under rules/, a header comment, its groups. */
export interface RuleFile { file: string; comment: string; groups: Group[] }

/** Reads thresholds and `for:` durations out of the config as chart-aware numbers. */
export function params(config: OpsConfig) {
  return {
    t: (key: ThresholdKey): Num => value(key, config.thresholds[key]),
    f: (key: ForKey): Num => ({ plain: config.for[key], helm: `.Values.alerting.for.${key}` }),
  };
}
