// Every alert, as data: expression, severity, `for:`, texts, the dashboard that shows it, and the
// promtool cases that prove it fires and stays quiet. Adding an alert is one entry here plus its
// docs/runbooks/<Alert>.md (a test fails without it). Expressions read recorded rules where one exists.
import type { OpsConfig } from './config.ts';
import { at, gauge, grow } from './lib/fixtures.ts';
import { metric, params, q, type AlertRule, type Case } from './lib/model.ts';
import { quantileRule } from './recording.ts';
import { budgetAlerts, burnAlerts, slos, type Slo } from './slo.ts';
import { accessAlerts } from './access-alerts.ts';
import { routingAlerts } from './routing-alerts.ts';
import { apiAlerts } from './api-alerts.ts';

// --- promtool fixtures -----------------------------------------------------------------------------
const API = 'route="/v1/chat/completions",method="POST"';
const requests = (perMinute: number, outcome: string, status: number, minutes = 60) =>
  ({ [`${metric('httpRequests')}{${API},status="${status}",outcome="${outcome}"}`]: grow(perMinute, minutes) });
/** A histogram whose observations all fall into the bucket `le` (and every larger one). */
function histogram(name: string, labels: string, bounds: (number | string)[], le: number, perMinute: number, minutes = 60) {
  const series: Record<string, string> = { [`${name}_count{${labels}}`]: grow(perMinute, minutes) };
  for (const bound of [...bounds, '+Inf']) {
    const inside = bound === '+Inf' || Number(bound) >= le;
    series[`${name}_bucket{${labels}${labels ? ',' : ''}le="${bound}"}`] = grow(inside ? perMinute : 0, minutes);
  }
  return series;
}

/** Burn-rate cases: every pair fires at 60 minutes of steady burning; a slow burn and an idle gateway stay quiet. */
function burnFixtures(slo: Slo): AlertRule['tests'][] {
  const traffic = requests(98, 'success', 200);
  const firing: Record<string, Case> = {
    availability: at(60, traffic, requests(2, 'gateway_error', 500)), // 2 % failed: 20x a 0.1 % budget
    upstream: at(60, requests(50, 'success', 200), requests(50, 'provider_error', 502)), // 50 %: 50x a 1 % budget
    latency: at(60, traffic, histogram(metric('gatewayOverhead'), API.split(',')[0], [0.005, 0.01, 0.025], 0.025, 100)), // 100 % slow: 20x a 5 % budget
  };
  const value: Record<string, string> = { availability: '20', upstream: '50', latency: '20' };
  const quiet: Record<string, Case[]> = {
    availability: [at(60, requests(999, 'success', 200), requests(1, 'gateway_error', 500)), at(60, requests(1, 'gateway_error', 500))],
    upstream: [at(60, requests(995, 'success', 200), requests(5, 'provider_error', 502)), at(60, requests(1, 'provider_error', 502))],
    latency: [at(60, traffic, histogram(metric('gatewayOverhead'), API.split(',')[0], [0.005, 0.01, 0.025], 0.005, 100))],
  };
  const labels = { slo: slo.id, sloth_service: 'vigil', sloth_slo: slo.id, sloth_id: `vigil-${slo.id}` };
  // One case per pair, all four firing together: each test checks one rule's labels.
  return [0, 1, 2, 3].map(() => ({ firing: { ...firing[slo.id], labels, value: value[slo.id] }, quiet: quiet[slo.id] }));
}

/** Alert groups by rule-group name; a group of alerts for a new feature is one more key. */
export function alerts(config: OpsConfig): Record<string, AlertRule[]> {
  const { t, f } = params(config);
  const api = `route=~"${config.selectors.apiRoutes}"`;
  const req = metric('httpRequests');
  const calls = metric('llmCalls');
  const pod = `pod=~"${config.selectors.pod}"`;
  const budgetTests: Record<string, AlertRule['tests']> = {
    VigilErrorBudgetLow: {
      firing: { ...at(60, requests(9991, 'success', 200), requests(9, 'gateway_error', 500)), labels: { slo: 'availability', sloth_service: 'vigil', sloth_slo: 'availability', sloth_id: 'vigil-availability' }, value: '10%' },
      quiet: [at(60, requests(9999, 'success', 200), requests(1, 'gateway_error', 500))],
    },
    VigilErrorBudgetExhausted: {
      firing: { ...at(60, requests(998, 'success', 200), requests(2, 'gateway_error', 500)), labels: { slo: 'availability', sloth_service: 'vigil', sloth_slo: 'availability', sloth_id: 'vigil-availability' }, value: '-100%' },
      quiet: [at(60, requests(9991, 'success', 200), requests(9, 'gateway_error', 500))],
    },
  };
  return {
    'vigil-slo-alerts': [
    ...slos(config).filter((slo) => slo.target).flatMap((slo) => burnAlerts(config, slo, burnFixtures)),
    ...budgetAlerts(config).map((a) => ({ ...a, tests: budgetTests[a.alert] })),
    {
      alert: 'VigilMetricsAbsent', severity: 'critical', for: f('absent'), dashboard: 'overview',
      expr: q`absent(${metric('buildInfo')})`,
      summary: 'Prometheus has no Vigil metrics at all.',
      description: q`No series of ${metric('buildInfo')} for {{ $value }} evaluation: no Vigil target is scraped, so no Vigil alert can fire.`,
      tests: {
        firing: { ...at(20, gauge('up', 'job="other"', 1, 20)), labels: {}, value: '1' },
        quiet: [at(20, gauge(metric('buildInfo'), 'version="0.1.0",node_version="v24.9.0",commit="abc"', 1, 20))],
      },
    },
    ],
    // Requests and upstreams (seeds 000, 001, 002, 004).
    'vigil-traffic-alerts': [
    {
      alert: 'VigilHighErrorRate', severity: 'critical', for: f('critical'), dashboard: 'overview',
      expr: q`sum(rate(${req}{${api},status=~"5.."}[5m])) / sum(rate(${req}{${api}}[5m])) > ${t('errorRate')}`,
      summary: 'Vigil answers too many API requests with a 5xx.',
      description: q`{{ $value | humanizePercentage }} of API requests failed with a 5xx over 5 minutes (alert above ${t('errorRate')}), whoever caused it.`,
      tests: {
        firing: { ...at(30, requests(90, 'success', 200, 30), requests(10, 'provider_error', 502, 30)), labels: {}, value: '10%' },
        quiet: [at(30, requests(98, 'success', 200, 30), requests(2, 'provider_error', 502, 30))],
      },
    },
    {
      alert: 'VigilUpstreamErrors', severity: 'warning', for: f('warning'), dashboard: 'llm',
      expr: q`sum(rate(${calls}{outcome="provider_error"}[5m])) > ${t('upstreamErrorsPerSec')}`,
      summary: 'Upstream providers fail many calls.',
      description: q`{{ $value | humanize }} upstream calls per second failed on the provider's side over 5 minutes (alert above ${t('upstreamErrorsPerSec')}).`,
      tests: {
        firing: { ...at(30, { [`${calls}{provider="openai",model="gpt-4.1",outcome="provider_error"}`]: grow(360, 30) }), labels: {}, value: '6' },
        quiet: [at(30, { [`${calls}{provider="openai",model="gpt-4.1",outcome="provider_error"}`]: grow(60, 30) })],
      },
    },
    {
      alert: 'VigilProviderErrorRate', severity: 'critical', for: f('critical'), dashboard: 'llm',
      expr: q`sum by (provider) (rate(${calls}{outcome=~"provider_error|gateway_error"}[5m])) / sum by (provider) (rate(${calls}[5m])) > ${t('upstreamErrorRate')}`,
      summary: 'One provider fails a large share of calls.',
      description: q`{{ $value | humanizePercentage }} of calls to provider {{ $labels.provider }} failed (not counting callers' errors) over 5 minutes (alert above ${t('upstreamErrorRate')}).`,
      tests: {
        firing: {
          ...at(30, { [`${calls}{provider="openai",model="gpt-4.1",outcome="success"}`]: grow(80, 30), [`${calls}{provider="openai",model="gpt-4.1",outcome="provider_error"}`]: grow(20, 30) }),
          labels: { provider: 'openai' }, value: '20%',
        },
        quiet: [at(30, { [`${calls}{provider="openai",model="gpt-4.1",outcome="success"}`]: grow(95, 30), [`${calls}{provider="openai",model="gpt-4.1",outcome="caller_error"}`]: grow(50, 30), [`${calls}{provider="openai",model="gpt-4.1",outcome="provider_error"}`]: grow(5, 30) })],
      },
    },
    {
      alert: 'VigilLlmLatencyP99High', severity: 'warning', for: f('warning'), dashboard: 'llm',
      expr: q`${quantileRule('llmDuration', ['provider', 'model'], 99)} > ${t('llmLatencyP99')}`,
      summary: 'Calls to one model are slow at the 99th percentile.',
      description: q`p99 of calls to {{ $labels.provider }} / {{ $labels.model }} is {{ $value | humanizeDuration }} over 5 minutes (alert above ${t('llmLatencyP99')} s).`,
      tests: {
        firing: { ...at(30, histogram(metric('llmDuration'), 'provider="anthropic",model="claude-sonnet"', [10, 30, 60], 60, 10, 30)), labels: { provider: 'anthropic', model: 'claude-sonnet' }, value: '59.7s' },
        quiet: [at(30, histogram(metric('llmDuration'), 'provider="anthropic",model="claude-sonnet"', [10, 30, 60], 10, 10, 30))],
      },
    },
    {
      alert: 'VigilUpstreamRateLimited', severity: 'warning', for: f('warning'), dashboard: 'llm',
      expr: q`sum by (provider) (rate(${metric('upstreamResponses')}{code="429"}[5m])) / sum by (provider) (rate(${metric('upstreamResponses')}[5m])) > ${t('upstream429Ratio')}`,
      summary: 'A provider rate-limits many calls.',
      description: q`{{ $value | humanizePercentage }} of answers from provider {{ $labels.provider }} were 429 over 5 minutes (alert above ${t('upstream429Ratio')}).`,
      tests: {
        firing: { ...at(30, { [`${metric('upstreamResponses')}{provider="openai",code="200"}`]: grow(95, 30), [`${metric('upstreamResponses')}{provider="openai",code="429"}`]: grow(5, 30) }), labels: { provider: 'openai' }, value: '5%' },
        quiet: [at(30, { [`${metric('upstreamResponses')}{provider="openai",code="200"}`]: grow(100, 30), [`${metric('upstreamResponses')}{provider="openai",code="429"}`]: grow(0, 30) })],
      },
    },
    {
      alert: 'VigilUpstreamQueueWaitHigh', severity: 'warning', for: f('warning'), dashboard: 'llm',
      expr: q`${quantileRule('upstreamQueueWait', ['provider'], 99)} > ${t('upstreamQueueWaitP99')}`,
      summary: 'Calls wait long for a connection to a provider.',
      description: q`p99 wait for a connection to provider {{ $labels.provider }} is {{ $value | humanizeDuration }} over 5 minutes (alert above ${t('upstreamQueueWaitP99')} s): all of its connections are busy.`,
      tests: {
        firing: { ...at(30, histogram(metric('upstreamQueueWait'), 'provider="openai"', [0.5, 1, 2.5], 2.5, 10, 30)), labels: { provider: 'openai' }, value: '2.485s' },
        quiet: [at(30, histogram(metric('upstreamQueueWait'), 'provider="openai"', [0.5, 1, 2.5], 0.5, 10, 30))],
      },
    },
    {
      alert: 'VigilGatewayOverheadHigh', severity: 'warning', for: f('warning'), dashboard: 'overview',
      expr: q`${quantileRule('gatewayOverhead', ['route'], 99)} > ${t('overheadP99')}`,
      summary: 'The gateway itself adds too much latency.',
      description: q`p99 of the time Vigil added to requests on {{ $labels.route }} is {{ $value | humanizeDuration }} over 5 minutes (alert above ${t('overheadP99')} s).`,
      tests: {
        firing: { ...at(30, histogram(metric('gatewayOverhead'), 'route="/v1/chat/completions"', [0.01, 0.05, 0.1], 0.1, 10, 30)), labels: { route: '/v1/chat/completions' }, value: '99.5ms' },
        quiet: [at(30, histogram(metric('gatewayOverhead'), 'route="/v1/chat/completions"', [0.01, 0.05, 0.1], 0.01, 10, 30))],
      },
    },
    {
      alert: 'VigilNoTraffic', severity: 'warning', for: f('noTraffic'), dashboard: 'overview',
      expr: q`(sum(rate(${req}{${api}}[15m])) or vector(0)) == 0 and on() sum(rate(${req}{${api}}[1h] offset 1d)) >= ${t('sloMinRequestRate')}`,
      summary: 'Vigil receives no API requests, though it did at this time yesterday.',
      description: q`{{ $value }} API requests per second over the last 15 minutes; at this time yesterday there were at least ${t('sloMinRequestRate')} per second. Clients may not reach the gateway.`,
      tests: {
        firing: { ...at(1500, { [`${req}{${API},status="200",outcome="success"}`]: '0+60x1440 86400x60' }), labels: {}, value: '0' },
        quiet: [at(1500, requests(60, 'success', 200, 1500)), at(60, gauge('up', 'job="vigil"', 1, 60))],
      },
    },
    ],
    // Vigil's own machinery: scrapes, stores, telemetry, the Node.js runtime.
    'vigil-runtime-alerts': [
    {
      alert: 'VigilGatewayDown', severity: 'critical', for: f('gatewayDown'), dashboard: 'overview', source: 'Prometheus (up)',
      expr: q`up{job=~"${config.selectors.job}"} == 0`,
      summary: 'Prometheus cannot scrape a Vigil instance.',
      description: q`{{ $labels.instance }} (job {{ $labels.job }}) has not answered scrapes for a minute: the process is down, hung, or unreachable.`,
      tests: {
        firing: { ...at(10, gauge('up', 'job="vigil",instance="vigil:9091"', 0, 10)), labels: { job: 'vigil', instance: 'vigil:9091' }, value: '0' },
        quiet: [at(10, gauge('up', 'job="vigil",instance="vigil:9091"', 1, 10))],
      },
    },
    {
      alert: 'VigilUsageRecordsDropped', severity: 'warning', for: f('warning'), dashboard: 'runtime',
      expr: q`sum by (instance) (increase(${metric('usageDropped')}[1h])) > 0`,
      summary: 'Vigil dropped usage records.',
      description: q`{{ $labels.instance }} gave up on {{ $value | printf "%.0f" }} usage records in the last hour: spend and token reports miss them.`,
      tests: {
        firing: { ...at(30, { [`${metric('usageDropped')}{instance="vigil:9091"}`]: '0x10 0+3x20' }), labels: { instance: 'vigil:9091' }, value: '57' },
        quiet: [at(30, { [`${metric('usageDropped')}{instance="vigil:9091"}`]: '0x30' })],
      },
    },
    {
      alert: 'VigilOtlpExportDropping', severity: 'warning', for: f('sustained'), dashboard: 'runtime',
      expr: q`sum by (instance, signal, reason) (rate(${metric('otlpDropped')}[5m])) > 0`,
      summary: 'Vigil drops spans or log records meant for OTLP.',
      description: q`{{ $labels.instance }} drops {{ $value | humanize }} {{ $labels.signal }} per second ({{ $labels.reason }}): traces or logs are missing in the backend.`,
      tests: {
        firing: { ...at(30, { [`${metric('otlpDropped')}{instance="vigil:9091",signal="traces",reason="queue_full"}`]: grow(60, 30) }), labels: { instance: 'vigil:9091', signal: 'traces', reason: 'queue_full' }, value: '1' },
        quiet: [at(30, { [`${metric('otlpDropped')}{instance="vigil:9091",signal="traces",reason="queue_full"}`]: '5x30' })],
      },
    },
    {
      alert: 'VigilMetricSeriesOverflow', severity: 'warning', for: f('warning'), dashboard: 'runtime',
      expr: q`sum by (metric) (increase(${metric('seriesOverflow')}[1h])) > 0`,
      summary: 'A metric reached its series cap; new label sets are folded into "other".',
      description: q`{{ $labels.metric }} folded {{ $value | printf "%.0f" }} observations into its "other" series in the last hour: per-label breakdowns of it are incomplete.`,
      tests: {
        firing: { ...at(30, { [`${metric('seriesOverflow')}{metric="vigil_llm_tool_calls_total"}`]: '0x10 0+1x20' }), labels: { metric: 'vigil_llm_tool_calls_total' }, value: '19' },
        quiet: [at(30, { [`${metric('seriesOverflow')}{metric="vigil_llm_tool_calls_total"}`]: '7x30' })],
      },
    },
    {
      alert: 'VigilSqliteWalGrowing', severity: 'warning', for: f('sustained'), dashboard: 'runtime',
      expr: q`max by (instance, store) (${metric('storeWalBytes')}) > ${t('walMiB')} * 1048576 and max by (instance, store) (deriv(${metric('storeWalBytes')}[30m])) > 0`,
      summary: 'The SQLite write-ahead log keeps growing.',
      description: q`The {{ $labels.store }} WAL of {{ $labels.instance }} is {{ $value | humanize1024 }}B and still growing (alert above ${t('walMiB')} MiB): checkpoints are held back.`,
      tests: {
        firing: { ...at(60, { [`${metric('storeWalBytes')}{instance="vigil:9091",store="sqlite"}`]: '67108864+1048576x60' }), labels: { instance: 'vigil:9091', store: 'sqlite' }, value: '124Mi' },
        quiet: [at(60, { [`${metric('storeWalBytes')}{instance="vigil:9091",store="sqlite"}`]: '134217728-1048576x60' })],
      },
    },
    {
      alert: 'VigilEventLoopLagHigh', severity: 'warning', for: f('warning'), dashboard: 'runtime',
      expr: q`max by (instance) (${metric('eventLoopLag')}) > ${t('eventLoopLagSeconds')}`,
      summary: 'The Node.js event loop is delayed; every request waits.',
      description: q`p99 event-loop delay of {{ $labels.instance }} is {{ $value | humanizeDuration }} (alert above ${t('eventLoopLagSeconds')} s).`,
      tests: {
        firing: { ...at(30, gauge(metric('eventLoopLag'), 'instance="vigil:9091"', 0.5)), labels: { instance: 'vigil:9091' }, value: '500ms' },
        quiet: [at(30, gauge(metric('eventLoopLag'), 'instance="vigil:9091"', 0.01))],
      },
    },
    {
      alert: 'VigilHeapNearLimit', severity: 'warning', for: f('warning'), dashboard: 'runtime',
      expr: q`max by (instance) (${metric('heapUsed')}) / max by (instance) (${metric('heapLimit')}) > ${t('heapUsedRatio')}`,
      summary: 'The V8 heap is close to its limit.',
      description: q`{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its V8 heap limit (alert above ${t('heapUsedRatio')}): out-of-memory crashes follow.`,
      tests: {
        firing: { ...at(30, gauge(metric('heapUsed'), 'instance="vigil:9091"', 950), gauge(metric('heapLimit'), 'instance="vigil:9091"', 1000)), labels: { instance: 'vigil:9091' }, value: '95%' },
        quiet: [at(30, gauge(metric('heapUsed'), 'instance="vigil:9091"', 500), gauge(metric('heapLimit'), 'instance="vigil:9091"', 1000))],
      },
    },
    ],
    // Gateway keys, rate limits, budgets, spend, Redis and audit (issue 26).
    'vigil-access-alerts': accessAlerts(config),
    // Breakers, routable deployments, fallbacks and retries (issue 27).
    'vigil-routing-alerts': routingAlerts(config),
    // Translation refusals and capped drains after client disconnects (issue 28).
    'vigil-api-alerts': apiAlerts(config),
    // Kubernetes, from kube-state-metrics' series (not Vigil's): need kube-state-metrics installed.
    'vigil-kube-state-metrics-alerts': [
    {
      alert: 'VigilPodNotReady', severity: 'warning', for: f('warning'), dashboard: 'runtime', source: 'kube-state-metrics',
      expr: q`sum by (namespace, pod) (kube_pod_status_ready{condition=~"false|unknown",${pod}}) > 0`,
      summary: 'A Vigil pod is not ready.',
      description: q`Pod {{ $labels.namespace }}/{{ $labels.pod }} has not been ready for 5 minutes: it gets no traffic.`,
      tests: {
        firing: { ...at(30, gauge('kube_pod_status_ready', 'namespace="ai",pod="gw-vigil-7d9f",condition="false"', 1)), labels: { namespace: 'ai', pod: 'gw-vigil-7d9f' }, value: '1' },
        quiet: [at(30, gauge('kube_pod_status_ready', 'namespace="ai",pod="gw-vigil-7d9f",condition="false"', 0))],
      },
    },
    {
      alert: 'VigilPodRestarting', severity: 'warning', for: f('warning'), dashboard: 'runtime', source: 'kube-state-metrics',
      expr: q`sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{${pod}}[1h])) > ${t('podRestartsPerHour')}`,
      summary: 'A Vigil pod restarts repeatedly.',
      description: q`Pod {{ $labels.namespace }}/{{ $labels.pod }} restarted {{ $value | printf "%.0f" }} times in the last hour (alert above ${t('podRestartsPerHour')}).`,
      tests: {
        firing: { ...at(60, { 'kube_pod_container_status_restarts_total{namespace="ai",pod="gw-vigil-7d9f",container="vigil"}': '0x50 0+1x10' }), labels: { namespace: 'ai', pod: 'gw-vigil-7d9f' }, value: '9' },
        quiet: [at(60, { 'kube_pod_container_status_restarts_total{namespace="ai",pod="gw-vigil-7d9f",container="vigil"}': '0x50 0+1x2 2x8' })],
      },
    },
    {
      alert: 'VigilPodCrashLooping', severity: 'critical', for: f('critical'), dashboard: 'runtime', source: 'kube-state-metrics',
      expr: q`max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff",${pod}}) == 1`,
      summary: 'A Vigil container is crash-looping.',
      description: q`Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} is in CrashLoopBackOff: it exits soon after starting.`,
      tests: {
        firing: { ...at(30, gauge('kube_pod_container_status_waiting_reason', 'namespace="ai",pod="gw-vigil-7d9f",container="vigil",reason="CrashLoopBackOff"', 1)), labels: { namespace: 'ai', pod: 'gw-vigil-7d9f', container: 'vigil' }, value: '1' },
        quiet: [at(30, gauge('kube_pod_container_status_waiting_reason', 'namespace="ai",pod="gw-vigil-7d9f",container="vigil",reason="CrashLoopBackOff"', 0))],
      },
    },
    ],
  };
}
