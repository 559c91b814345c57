// Grafana dashboards as code (@grafana/grafana-foundation-sdk): each one a function of the ops config,
// built from the catalog's metric names (`metric()`, a type error if one does not exist) and the
// recording rules' names (recording.ts, slo.ts). generate.ts writes them to ops/generated/dashboards
// (compose's Grafana provider) and, byte for byte, to the chart's files/dashboards. Datasources are
// the DS_PROMETHEUS / DS_LOKI template variables, never __inputs: the Grafana sidecar and file
// provisioning do not run the import that fills __inputs. Adding a panel is one line in a list.
import { DashboardBuilder, DashboardLinkBuilder, DashboardLinkType, DatasourceVariableBuilder, RowBuilder, TextBoxVariableBuilder, type Dashboard as GrafanaDashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as LokiQuery } from '@grafana/grafana-foundation-sdk/loki';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as LogsPanel } from '@grafana/grafana-foundation-sdk/logs';
import { LogsSortOrder, StackingMode, StackingConfigBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { MetricKey } from '../src/telemetry/metrics/catalog.ts';
import { access } from './access-dashboard.ts';
import { routing } from './routing-dashboard.ts';
import { apiSurface } from './api-dashboard.ts';
import { DASHBOARDS, DEFAULT_CONFIG, type Dashboard, type OpsConfig } from './config.ts';
import { metric, ruleName } from './lib/model.ts';
import { api, base, byProvider, gauge, llm, LOKI, quantile, rate, row, sel, stat, table, timeseries } from './lib/panels.ts';
import { quantileRule } from './recording.ts';
import { BUDGET_REMAINING, burnRate, errorRatio, WINDOWS } from './slo.ts';

// ---- the dashboards ----

function overview(config: OpsConfig) {
  const a = api(config);
  return base('overview', 'Vigil / Overview', 'Traffic, errors, latency and gateway overhead at a glance, with the upstreams\' health.', ['instance', 'provider'])
    .withRow(row('Now'))
    .withPanel(stat('Requests/s', [`sum(${rate('httpRequests', sel(a))})`], { unit: 'reqps' }))
    .withPanel(stat('5xx share', [`sum(${rate('httpRequests', sel(`${a},status=~"5.."`))}) / sum(${rate('httpRequests', sel(a))})`],
      { unit: 'percentunit', thresholds: [[0.01, 'yellow'], [config.thresholds.errorRate, 'red']] }))
    .withPanel(stat('p95 latency', [quantile(0.95, 'httpDuration', sel(a), [])], { unit: 's' }))
    .withPanel(stat('Gateway overhead p99', [quantile(0.99, 'gatewayOverhead', sel(a), [])],
      { unit: 's', thresholds: [[config.latencyBudgetSeconds, 'yellow'], [config.thresholds.overheadP99, 'red']] }))
    .withPanel(stat('Instances up', [`count(${metric('buildInfo')}${sel()})`]))
    .withPanel(stat('In flight', [`sum(${metric('httpInFlight')}${sel()})`]))
    .withRow(row('Traffic and errors'))
    .withPanel(timeseries('Requests by outcome', [[`sum by (outcome) (${rate('httpRequests', sel(a))})`, '{{outcome}}']], { unit: 'reqps', stack: true,
      description: 'outcome: success, or whose fault a failure was (caller_error, gateway_error, provider_error).' }))
    .withPanel(timeseries('Requests by status', [[`sum by (status) (${rate('httpRequests', sel(a))})`, '{{status}}']], { unit: 'reqps', stack: true }))
    .withPanel(timeseries('Latency', [50, 95, 99].map((p) => [quantile(p / 100, 'httpDuration', sel(a), []), `p${p}`]), { unit: 's' }))
    .withPanel(timeseries('Gateway overhead', [50, 95, 99].map((p) => [quantile(p / 100, 'gatewayOverhead', sel(a), []), `p${p}`]), { unit: 's',
      description: 'Time the gateway adds to a request besides waiting for the upstream.' }))
    .withPanel(timeseries('Auth failures', [[`sum by (reason) (${rate('authFailures', sel())})`, '{{reason}}']], { unit: 'reqps' }))
    .withPanel(timeseries('Client connections and streams', [[`sum(${metric('clientConnections')}${sel()})`, 'connections'], [`sum(${metric('streamsActive')}${sel()})`, 'streams']]))
    .withRow(row('Upstream health'))
    .withPanel(timeseries('Upstream failure share by provider', [[`sum by (provider) (${rate('llmCalls', byProvider('outcome="provider_error"'))}) / sum by (provider) (${rate('llmCalls', byProvider())})`, '{{provider}}']],
      { unit: 'percentunit', min: 0 }))
    .withPanel(timeseries('Upstream responses by code', [[`sum by (provider, code) (${rate('upstreamResponses', byProvider())})`, '{{provider}} {{code}}']], { unit: 'reqps' }))
    .withPanel(timeseries('Upstream queue depth', [[`sum by (provider) (${metric('upstreamQueueDepth')}${byProvider()})`, '{{provider}}']]))
    .withPanel(timeseries('Upstream queue wait p99', [[quantile(0.99, 'upstreamQueueWait', byProvider(), ['provider']), '{{provider}}']], { unit: 's' }));
}

function red(_config: OpsConfig) {
  const by = 'route, method';
  return base('red', 'Vigil / RED by route', 'Rate, errors and duration per route and method.')
    .withPanel(timeseries('Rate by route', [[`sum by (${by}) (${rate('httpRequests', sel())})`, '{{method}} {{route}}']], { unit: 'reqps', w: 24 }))
    .withPanel(timeseries('Error share by route (outcome ≠ success)', [[`sum by (${by}) (${rate('httpRequests', sel('outcome!="success"'))}) / sum by (${by}) (${rate('httpRequests', sel())})`, '{{method}} {{route}}']], { unit: 'percentunit' }))
    .withPanel(timeseries('Errors by route and outcome', [[`sum by (route, outcome) (${rate('httpRequests', sel('outcome!="success"'))})`, '{{route}} {{outcome}}']], { unit: 'reqps' }))
    .withPanel(timeseries('p95 duration by route', [[quantile(0.95, 'httpDuration', sel(), ['route', 'method']), '{{method}} {{route}}']], { unit: 's' }))
    .withPanel(timeseries('p99 gateway overhead by route', [[quantile(0.99, 'gatewayOverhead', sel(), ['route']), '{{route}}']], { unit: 's' }))
    .withPanel(timeseries('In flight by route', [[`sum by (route) (${metric('httpInFlight')}${sel()})`, '{{route}}']]))
    .withPanel(timeseries('Stream duration p95 by route', [[quantile(0.95, 'streamDuration', sel(), ['route']), '{{route}}']], { unit: 's' }))
    .withPanel(table('Routes over the range', [
      [`sum by (${by}) (increase(${metric('httpRequests')}${sel()}[$__range]))`],
      [`sum by (${by}) (increase(${metric('httpRequests')}${sel('outcome!="success"')}[$__range])) / sum by (${by}) (increase(${metric('httpRequests')}${sel()}[$__range]))`],
    ], { w: 24, description: 'A: requests, B: error share.' }));
}

function slo(config: OpsConfig) {
  const target = (id: string, title: string) => [
    row(`SLO: ${title}`),
    stat(`${title}: budget left (30d)`, [`${BUDGET_REMAINING}{slo="${id}"}`], { unit: 'percentunit', w: 6, thresholds: [[config.thresholds.errorBudgetExhausted, 'red'], [config.thresholds.errorBudgetLow, 'yellow']], reverse: true }),
    stat(`${title}: objective`, [`slo:objective:ratio{slo="${id}"}`], { unit: 'percentunit', w: 6 }),
    stat(`${title}: SLI (30d)`, [`1 - ${errorRatio('30d')}{slo="${id}"}`], { unit: 'percentunit', w: 6 }),
    stat(`${title}: burn rate 1h`, [`${burnRate('1h')}{slo="${id}"}`], { w: 6, thresholds: [[1, 'yellow'], [14.4, 'red']] }),
    timeseries(`${title}: burn rates`, WINDOWS.filter((w) => w !== '30d').map((w) => [`${burnRate(w)}{slo="${id}"}`, w]), { w: 12,
      description: 'Multi-window burn rates: the page pairs are 14.4x over 1h and 5m, 6x over 6h and 30m.' }),
    timeseries(`${title}: error ratio`, ['5m', '1h', '6h', '1d'].map((w) => [`${errorRatio(w)}{slo="${id}"}`, w]), { unit: 'percentunit', w: 12 }),
  ];
  // Recorded series are aggregated across instances: no instance variable here.
  const d = base('slo', 'Vigil / SLO and error budget', 'Burn rates, error budget and APDEX from the recording rules (ops/slo.ts, ops/recording.ts).', ['provider', 'model']);
  for (const p of [...target('availability', 'Availability'), ...target('upstream', 'Upstream availability'), ...target('latency', 'Latency')]) {
    if (p instanceof RowBuilder) d.withRow(p); else d.withPanel(p);
  }
  const apdex = ruleName(['route'], 'httpDuration', 'apdex_rate5m');
  return d.withRow(row('APDEX and LLM latency SLI'))
    .withPanel(gauge('APDEX (all API routes)', [`min(${apdex})`], { unit: 'none', thresholds: [[0.7, 'yellow'], [0.85, 'green']],
      description: `Satisfied at or under ${config.apdex.satisfiedSeconds} s, tolerating at or under ${config.apdex.toleratingSeconds} s; the worst route.` }))
    .withPanel(timeseries('APDEX by route', [[apdex, '{{route}}']], { unit: 'none', w: 18, min: 0, max: 1 }))
    .withPanel(timeseries('LLM calls slower than the per-model threshold (1h)', [[`${errorRatio('1h')}{slo="llm-latency",provider=~"$provider",model=~"$model"}`, '{{provider}} {{model}}']], { unit: 'percentunit', w: 24 }));
}

function llmTraffic(_config: OpsConfig) {
  const pm = ['provider', 'model'];
  const rec = (key: MetricKey, p: number) => `${quantileRule(key, pm, p)}{provider=~"$provider",model=~"$model"}`;
  return base('llm', 'Vigil / LLM traffic', 'Upstream model calls by provider and model: rate, outcome, time to first token, time per output token, tokens, errors.', ['instance', 'provider', 'model'])
    .withPanel(timeseries('Calls by provider and model', [[`sum by (provider, model) (${rate('llmCalls', llm())})`, '{{provider}} {{model}}']], { unit: 'reqps' }))
    .withPanel(timeseries('Calls by outcome', [[`sum by (outcome) (${rate('llmCalls', llm())})`, '{{outcome}}']], { unit: 'reqps', stack: true }))
    .withPanel(timeseries('Errors by class', [[`sum by (provider, error_class) (${rate('llmErrors', llm())})`, '{{provider}} {{error_class}}']], { unit: 'reqps' }))
    .withPanel(timeseries('Failure share by provider and model', [[`sum by (provider, model) (${rate('llmCalls', llm('outcome!="success"'))}) / sum by (provider, model) (${rate('llmCalls', llm())})`, '{{provider}} {{model}}']], { unit: 'percentunit' }))
    .withPanel(timeseries('Call duration p95 / p99', [[rec('llmDuration', 95), 'p95 {{provider}} {{model}}'], [rec('llmDuration', 99), 'p99 {{provider}} {{model}}']], { unit: 's' }))
    .withPanel(timeseries('Time to first token p50 / p95', [[rec('llmTimeToFirstToken', 50), 'p50 {{provider}} {{model}}'], [rec('llmTimeToFirstToken', 95), 'p95 {{provider}} {{model}}']], { unit: 's' }))
    .withPanel(timeseries('Time per output token p50 / p95', [0.5, 0.95].map((p) => [quantile(p, 'llmTimePerOutputToken', llm(), pm), `p${p * 100} {{provider}} {{model}}`]), { unit: 's' }))
    .withPanel(timeseries('Tokens/s by type', [[`sum by (type) (${rate('llmTokens', llm())})`, '{{type}}']], { unit: 'short', stack: true,
      description: 'cached_input is a subset of input.' }))
    .withPanel(timeseries('Output tokens/s by model', [[`sum by (provider, model) (${rate('llmTokens', llm('type="output"'))})`, '{{provider}} {{model}}']]))
    .withPanel(timeseries('Upstream 429 share by provider', [[`sum by (provider) (${rate('upstreamResponses', byProvider('code="429"'))}) / sum by (provider) (${rate('upstreamResponses', byProvider())})`, '{{provider}}']], { unit: 'percentunit' }))
    .withPanel(timeseries('Tool calls by tool', [[`sum by (tool) (${rate('llmToolCalls', llm())})`, '{{tool}}']]))
    .withPanel(timeseries('Upstream queue wait p99', [[`${quantileRule('upstreamQueueWait', ['provider'], 99)}{provider=~"$provider"}`, '{{provider}}']], { unit: 's' }));
}

function cost(_config: OpsConfig) {
  const pm = ['provider', 'model'];
  const hourly = (key: MetricKey, by: string[], f = '{provider=~"$provider",model=~"$model"}') => `${ruleName(by, key, 'increase1h')}${f}`;
  const over = (key: MetricKey, m: string) => `sum by (provider, model) (increase(${metric(key)}${m}[$__range]))`;
  return base('cost', 'Vigil / Cost', 'Spend by provider and model, per identity where metrics.identity_cost is on, and models whose calls record no cost.', ['instance', 'provider', 'model'])
    .withPanel(stat('Spend over the range', [`sum(increase(${metric('llmCost')}${llm()}[$__range]))`], { unit: 'currencyUSD', w: 6 }))
    .withPanel(stat('Spend, last hour', [`sum(${hourly('llmCost', pm)})`], { unit: 'currencyUSD', w: 6 }))
    .withPanel(stat('Billable calls, last day', [`sum(${ruleName(pm, 'llmCalls', 'billable_increase1d')}{provider=~"$provider",model=~"$model"})`], { w: 6 }))
    .withPanel(stat('Cost per 1k calls', [`1000 * sum(increase(${metric('llmCost')}${llm()}[$__range])) / sum(increase(${metric('llmCalls')}${llm('outcome="success"')}[$__range]))`], { unit: 'currencyUSD', w: 6 }))
    .withPanel(timeseries('Spend per hour by provider and model', [[hourly('llmCost', pm), '{{provider}} {{model}}']], { unit: 'currencyUSD', stack: true }))
    .withPanel(timeseries('Tokens per hour by type', [[`sum by (type) (${hourly('llmTokens', ['provider', 'model', 'type'])})`, '{{type}}']], { stack: true }))
    .withPanel(timeseries('Spend per hour by identity (top 10)', [[`topk(10, ${hourly('identityCost', ['identity'], '')})`, '{{identity}}']], { unit: 'currencyUSD', w: 24,
      description: 'Only with metrics.identity_cost on; empty otherwise.' }))
    .withPanel(table('Spend by provider and model over the range', [[over('llmCost', llm())], [over('llmCalls', llm())]], { description: 'A: US dollars, B: calls.' }))
    .withPanel(table('Zero-priced calls: models with calls but no recorded cost', [
      [`${over('llmCalls', llm('outcome="success"'))} unless on (provider, model) (${over('llmCost', llm())} > 0)`],
    ], { description: 'Calls that succeeded over the range for a provider/model whose cost counter did not grow: a missing or zero price.' }));
}

function runtime(_config: OpsConfig) {
  return base('runtime', 'Vigil / Runtime and stores', 'Node.js runtime (event loop, heap, GC, CPU), stores (query time, connections, SQLite WAL), the usage queue, telemetry loss and upstream queues.')
    .withPanel(timeseries('Event-loop lag p99', [[`${metric('eventLoopLag')}${sel()}`, '{{instance}}']], { unit: 's' }))
    .withPanel(timeseries('Heap used / limit', [[`${metric('heapUsed')}${sel()} / ${metric('heapLimit')}${sel()}`, '{{instance}}']], { unit: 'percentunit', min: 0, max: 1 }))
    .withPanel(timeseries('Heap and RSS', [[`${metric('heapUsed')}${sel()}`, 'heap {{instance}}'], [`${metric('processResidentMemory')}${sel()}`, 'rss {{instance}}']], { unit: 'bytes' }))
    .withPanel(timeseries('GC time per second by kind', [[`sum by (kind) (${rate('gcDuration', sel(), '_sum')})`, '{{kind}}']], { unit: 's' }))
    .withPanel(timeseries('CPU', [[`${rate('processCpu', sel())}`, '{{instance}}']], { unit: 'percentunit' }))
    .withPanel(timeseries('Uptime', [[`time() - ${metric('processStartTime')}${sel()}`, '{{instance}}']], { unit: 's' }))
    .withRow(row('Stores'))
    .withPanel(timeseries('Store query p99', [[quantile(0.99, 'storeQueryDuration', sel(), ['store', 'operation']), '{{store}} {{operation}}']], { unit: 's' }))
    .withPanel(timeseries('Store connections', [[`sum by (store, state) (${metric('storeConnections')}${sel()})`, '{{store}} {{state}}']]))
    .withPanel(timeseries('SQLite WAL size', [[`max by (store) (${metric('storeWalBytes')}${sel()})`, '{{store}}']], { unit: 'bytes' }))
    .withPanel(timeseries('Usage records queued / dropped per second', [[`sum(${metric('usageQueue')}${sel()})`, 'queued'], [`sum(${rate('usageDropped', sel())})`, 'dropped/s']]))
    .withRow(row('Telemetry and upstream queues'))
    .withPanel(timeseries('OTLP export drops', [[`sum by (signal, reason) (${rate('otlpDropped', sel())})`, '{{signal}} {{reason}}']]))
    .withPanel(timeseries('Metric series overflow', [[`sum by (metric) (${rate('seriesOverflow', sel())})`, '{{metric}}']]))
    .withPanel(timeseries('Upstream queue depth', [[`sum by (provider) (${metric('upstreamQueueDepth')}${sel()})`, '{{provider}}']]))
    .withPanel(timeseries('Upstream queue wait p99', [[quantile(0.99, 'upstreamQueueWait', sel(), ['provider']), '{{provider}}']], { unit: 's' }));
}

function logs() {
  // Vigil's logs reach Loki over OTLP (deploy/compose/otel-collector.yaml): the resource's service.name
  // is the stream label service_name; request_id, trace_id and severity_text are structured metadata.
  const stream = '{service_name=~"$service"}';
  const filters = '| request_id=~".*$request_id.*" | trace_id=~".*$trace_id.*"';
  const loki = (expr: string, i = 0) => new LokiQuery().expr(expr).refId(String.fromCharCode(65 + i)).datasource(LOKI);
  const lines = (title: string, expr: string, h = 12) => new LogsPanel().title(title).datasource(LOKI).span(24).height(h)
    .showTime(true).wrapLogMessage(true).enableLogDetails(true).sortOrder(LogsSortOrder.Descending).targets([loki(expr)]);
  return new DashboardBuilder('Vigil / Logs').uid(DASHBOARDS.logs).tags(['vigil']).editable().refresh('30s')
    .description('Vigil\'s log lines in Loki: by request_id or trace_id (both match substrings; empty matches all), and the error lines.')
    .time({ from: 'now-1h', to: 'now' }).timezone('browser')
    .link(new DashboardLinkBuilder('Vigil').type(DashboardLinkType.Dashboards).tags(['vigil']).asDropdown(true).keepTime(true))
    .withVariable(new DatasourceVariableBuilder('DS_LOKI').label('Loki').type('loki'))
    .withVariable(new TextBoxVariableBuilder('service').label('service.name').defaultValue('vigil').current({ text: 'vigil', value: 'vigil' }))
    .withVariable(new TextBoxVariableBuilder('request_id').label('request_id').defaultValue(''))
    .withVariable(new TextBoxVariableBuilder('trace_id').label('trace_id').defaultValue(''))
    .withPanel(new TimeseriesPanel().title('Log lines by severity').datasource(LOKI).span(24).height(6).unit('short')
      .stacking(new StackingConfigBuilder().mode(StackingMode.Normal)).fillOpacity(40)
      .targets([loki(`sum by (severity_text) (count_over_time(${stream} ${filters} [$__interval]))`).legendFormat('{{severity_text}}')]))
    .withPanel(lines('Lines (filtered by request_id / trace_id)', `${stream} ${filters}`))
    .withPanel(lines('Error lines', `${stream} | severity_text=~"(?i)(error|fatal)" ${filters}`, 10));
}

const BUILDERS: Record<Dashboard, (config: OpsConfig) => { build(): GrafanaDashboard }> = {
  overview, red, slo, llm: llmTraffic, cost, runtime, logs, access, routing, api: apiSurface,
};

/** Every dashboard: file name (its uid) → model. */
export function dashboards(config: OpsConfig = DEFAULT_CONFIG): Map<string, GrafanaDashboard> {
  const out = new Map<string, GrafanaDashboard>();
  for (const [key, build] of Object.entries(BUILDERS) as [Dashboard, (c: OpsConfig) => { build(): GrafanaDashboard }][]) {
    const d = build(config).build();
    // Grafana needs unique panel ids (links and the panel viewer use them); the builders leave them unset.
    (d.panels ?? []).forEach((p, i) => { p.id = i + 1; });
    out.set(`${DASHBOARDS[key]}.json`, d);
  }
  return out;
}

export const dashboardText = (d: GrafanaDashboard) => `${JSON.stringify(d, null, 2)}\n`;
