// The patterns every Grafana dashboard of ops/ repeats (@grafana/grafana-foundation-sdk): selectors over
// the template variables, rate and quantile expressions, and the panel kinds with Vigil's defaults.
import { DashboardBuilder, DashboardCursorSync, MappingType, DashboardLinkBuilder, DashboardLinkType, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder, ThresholdsConfigBuilder, ThresholdsMode, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PromQuery, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as GaugePanel } from '@grafana/grafana-foundation-sdk/gauge';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { BigValueGraphMode, StackingMode, VisibilityMode, VizLegendOptionsBuilder, LegendDisplayMode, LegendPlacement, StackingConfigBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import type { MetricKey } from '../../src/telemetry/metrics/catalog.ts';
import { DASHBOARDS, type Dashboard, type OpsConfig } from '../config.ts';
import { metric } from './model.ts';

export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: `\${DS_PROMETHEUS}` };
export const LOKI: DataSourceRef = { type: 'loki', uid: `\${DS_LOKI}` };

/** Matchers for the template variables a metric can be filtered by (instance always; provider/model where it has them). */
export function sel(extra = '', dims: ('provider' | 'model')[] = []): string {
  const m = ['instance=~"$instance"', ...dims.map((d) => `${d}=~"$${d}"`)];
  if (extra) m.push(extra);
  return `{${m.join(',')}}`;
}
export const llm = (extra = '') => sel(extra, ['provider', 'model']);
export const byProvider = (extra = '') => sel(extra, ['provider']);
export const rate = (key: MetricKey, matchers: string, suffix = '') => `rate(${metric(key)}${suffix}${matchers}[$__rate_interval])`;
export const quantile = (p: number, key: MetricKey, matchers: string, by: string[]) =>
  `histogram_quantile(${p}, sum by (${[...by, 'le'].join(', ')}) (${rate(key, matchers, '_bucket')}))`;

type Target = [expr: string, legend?: string];
const prom = ([expr, legend]: Target, i: number) => {
  const q = new PromQuery().expr(expr).refId(String.fromCharCode(65 + i)).datasource(PROMETHEUS);
  return legend === undefined ? q : q.legendFormat(legend);
};

interface PanelOpts { unit?: string; w?: number; h?: number; description?: string; stack?: boolean; max?: number; min?: number }

export function timeseries(title: string, targets: Target[], o: PanelOpts = {}) {
  const p = new TimeseriesPanel().title(title).datasource(PROMETHEUS).unit(o.unit ?? 'short')
    .span(o.w ?? 12).height(o.h ?? 8).fillOpacity(10).lineWidth(1)
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).showLegend(true).calcs(['mean', 'max']))
    .targets(targets.map(prom));
  if (o.description) p.description(o.description);
  if (o.stack) p.stacking(new StackingConfigBuilder().mode(StackingMode.Normal)).fillOpacity(40);
  if (o.min !== undefined) p.min(o.min);
  if (o.max !== undefined) p.max(o.max);
  return p;
}

/** Thresholds from green up: [value, color] steps above the base. */
const steps = (...above: [number, string][]) => new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute)
  .steps([{ value: null as unknown as number, color: 'green' }, ...above.map(([value, color]) => ({ value, color }))]);

export function stat(title: string, target: Target, o: PanelOpts & { thresholds?: [number, string][]; reverse?: boolean } = {}) {
  const p = new StatPanel().title(title).datasource(PROMETHEUS).unit(o.unit ?? 'short').span(o.w ?? 4).height(o.h ?? 4)
    .graphMode(BigValueGraphMode.Area).targets([prom(target, 0)]);
  if (o.description) p.description(o.description);
  if (o.thresholds) p.thresholds(o.reverse ? reversed(o.thresholds) : steps(...o.thresholds));
  return p;
}

/** Thresholds where lower is worse (budget left, APDEX): red below the first, yellow below the second. */
const reversed = ([[low], [mid]]: [number, string][]) => new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute)
  .steps([{ value: null as unknown as number, color: 'red' }, { value: low, color: 'yellow' }, { value: mid, color: 'green' }]);

export function gauge(title: string, target: Target, o: PanelOpts & { thresholds: [number, string][] }) {
  return new GaugePanel().title(title).datasource(PROMETHEUS).unit(o.unit ?? 'percentunit').span(o.w ?? 6).height(o.h ?? 6)
    .min(o.min ?? 0).max(o.max ?? 1).thresholds(reversed(o.thresholds)).targets([prom(target, 0)]);
}

/** An instant table: one row per series, the value in a column. */
export function table(title: string, targets: Target[], o: PanelOpts = {}) {
  const p = new TablePanel().title(title).datasource(PROMETHEUS).unit(o.unit ?? 'short').span(o.w ?? 12).height(o.h ?? 8)
    .targets(targets.map((t, i) => prom(t, i).instant().format(PromQueryFormat.Table)))
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true } } });
  if (o.description) p.description(o.description);
  return p;
}

/** One lane per series, coloured by the value's name (e.g. 0 closed / 1 open / 2 half-open). */
export function stateTimeline(title: string, targets: Target[], states: Record<number, [text: string, color: string]>, o: PanelOpts = {}) {
  const options = Object.fromEntries(Object.entries(states).map(([v, [text, color]]) => [v, { text, color, index: Number(v) }]));
  const p = new StateTimelinePanel().title(title).datasource(PROMETHEUS).span(o.w ?? 12).height(o.h ?? 8)
    .mappings([{ type: MappingType.ValueToText, options }]).mergeValues(true).showValue(VisibilityMode.Never).targets(targets.map(prom));
  if (o.description) p.description(o.description);
  return p;
}

export const row = (title: string) => new RowBuilder(title);

/** A Prometheus dashboard: uid from ops/config.ts, the DS_PROMETHEUS variable, then the label variables it filters by. */
export function base(key: Dashboard, title: string, description: string, vars: ('instance' | 'provider' | 'model')[] = ['instance']) {
  const d = new DashboardBuilder(title).uid(DASHBOARDS[key]).description(description).tags(['vigil'])
    .editable().tooltip(DashboardCursorSync.Crosshair).refresh('30s').time({ from: 'now-6h', to: 'now' }).timezone('browser')
    .link(new DashboardLinkBuilder('Vigil').type(DashboardLinkType.Dashboards).tags(['vigil']).asDropdown(true).includeVars(true).keepTime(true))
    .withVariable(new DatasourceVariableBuilder('DS_PROMETHEUS').label('Prometheus').type('prometheus'));
  const inst = vars.includes('instance') ? 'instance=~"$instance"' : '';
  if (inst) d.withVariable(labelVar('instance', `label_values(${metric('buildInfo')}, instance)`));
  const calls = (...m: string[]) => `${metric('llmCalls')}${m.some(Boolean) ? `{${m.filter(Boolean).join(',')}}` : ''}`;
  if (vars.includes('provider')) d.withVariable(labelVar('provider', `label_values(${calls(inst)}, provider)`));
  if (vars.includes('model')) d.withVariable(labelVar('model', `label_values(${calls(inst, 'provider=~"$provider"')}, model)`));
  return d;
}

/** A multi-value label variable with "All" meaning any value (`.*`), so `=~"$x"` always matches. */
const labelVar = (name: string, query: string) => new QueryVariableBuilder(name).label(name).datasource(PROMETHEUS)
  .query({ query, refId: `${name}-values` }).definition(query).refresh(VariableRefresh.OnTimeRangeChanged)
  .sort(VariableSort.AlphabeticalAsc).multi(true).includeAll(true).allValue('.*')
  .current({ text: 'All', value: '$__all' });

export const api = (config: OpsConfig) => `route=~"${config.selectors.apiRoutes}"`;
