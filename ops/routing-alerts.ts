// Alerts on routing and resilience (issue 27): a deployment's circuit breaker held open, an alias with no
// routable deployment, requests leaving an alias for its fallbacks, and retries multiplying upstream
// traffic. Same shape as ops/alerts.ts; each has docs/runbooks/<Alert>.md.
import type { OpsConfig } from './config.ts';
import { at, gauge, grow } from './lib/fixtures.ts';
import { metric, params, q, type AlertRule } from './lib/model.ts';

const A = 'instance="vigil-a:9091"';
const B = 'instance="vigil-b:9091"';

export function routingAlerts(config: OpsConfig): AlertRule[] {
  const { t, f } = params(config);
  const state = metric('breakerState');
  const routable = metric('routableDeployments');
  const decisions = metric('routingDecisions');
  const fallbacks = metric('fallbacks');
  const retries = metric('retries');
  const calls = metric('llmCalls');
  const deployment = 'deployment="openai:gpt-4.1"';
  // Attempts routed on an alias, its `model` copied to `from` (label_join: no `$1` for Grafana to read as a variable).
  const routedFrom = q`sum by (from) (label_join(rate(${decisions}[5m]), "from", "", "model"))`;
  return [
    {
      alert: 'VigilCircuitBreakerOpen', severity: 'warning', for: f('breakerOpen'), dashboard: 'routing',
      expr: q`max by (deployment) (${state}) == 1`,
      summary: 'A deployment\'s circuit breaker stays open; selection skips it.',
      description: q`The circuit breaker of deployment {{ $labels.deployment }} has been open on at least one instance for ${f('breakerOpen')}: its recent attempts failed (breaker.failure_ratio or breaker.consecutive_failures), so its aliases route around it or fall back.`,
      tests: {
        // Per replica: one instance open is enough.
        firing: { ...at(30, gauge(state, `${deployment},${A}`, 1), gauge(state, `${deployment},${B}`, 0)), labels: { deployment: 'openai:gpt-4.1' }, value: '1' },
        quiet: [at(30, gauge(state, `${deployment},${A}`, 2), gauge(state, `${deployment},${B}`, 0), gauge(state, `deployment="anthropic:claude-sonnet",${A}`, 0))],
      },
    },
    {
      alert: 'VigilAliasUnroutable', severity: 'critical', for: f('aliasUnroutable'), dashboard: 'routing',
      expr: q`min by (model) (${routable}) == 0`,
      summary: 'A model alias has no deployment left to route to.',
      description: q`Every deployment of alias {{ $labels.model }} is open on at least one instance: its requests there fall back to other aliases or get 503 GW_NO_DEPLOYMENT_AVAILABLE.`,
      tests: {
        firing: { ...at(30, gauge(routable, `model="chat",${A}`, 0), gauge(routable, `model="chat",${B}`, 2)), labels: { model: 'chat' }, value: '0' },
        quiet: [at(30, gauge(routable, `model="chat",${A}`, 1), gauge(routable, `model="chat",${B}`, 2), gauge(routable, `model="embed",${A}`, 1))],
      },
    },
    {
      alert: 'VigilFallbackRateHigh', severity: 'warning', for: f('fallbackRate'), dashboard: 'routing',
      expr: q`sum by (from) (rate(${fallbacks}[5m])) / ${routedFrom} > ${t('fallbackRatio')}`,
      summary: 'Many requests leave an alias for its fallbacks.',
      description: q`Requests fell back from alias {{ $labels.from }} at {{ $value | humanizePercentage }} of its routed attempts over 5 minutes (alert above ${t('fallbackRatio')}): its deployments keep failing with errors in fallback_on, or their breakers are open.`,
      tests: {
        firing: {
          ...at(30, { [`${decisions}{model="chat",deployment="openai:gpt-4.1",strategy="priority"}`]: grow(100, 30), [`${fallbacks}{from="chat",to="chat-backup",reason="server_error"}`]: grow(10, 30) }),
          labels: { from: 'chat' }, value: '10%',
        },
        quiet: [at(30, {
          [`${decisions}{model="chat",deployment="openai:gpt-4.1",strategy="priority"}`]: grow(100, 30),
          [`${fallbacks}{from="chat",to="chat-backup",reason="server_error"}`]: grow(2, 30),
          [`${decisions}{model="chat-backup",deployment="anthropic:claude-sonnet",strategy="priority"}`]: grow(2, 30),
        })],
      },
    },
    {
      alert: 'VigilRetryStorm', severity: 'warning', for: f('retryStorm'), dashboard: 'routing',
      expr: q`sum(rate(${retries}[5m])) / sum(rate(${calls}[5m])) > ${t('retryRatio')}`,
      summary: 'Retries make up a large share of upstream attempts.',
      description: q`{{ $value | humanizePercentage }} of upstream attempts over 5 minutes were retries (alert above ${t('retryRatio')}): upstreams fail often enough that Vigil multiplies its own traffic to them.`,
      tests: {
        firing: {
          ...at(30, { [`${calls}{provider="openai",model="chat",outcome="success"}`]: grow(70, 30), [`${calls}{provider="openai",model="chat",outcome="provider_error"}`]: grow(30, 30), [`${retries}{model="chat",reason="server_error"}`]: grow(30, 30) }),
          labels: {}, value: '30%',
        },
        quiet: [at(30, { [`${calls}{provider="openai",model="chat",outcome="success"}`]: grow(95, 30), [`${calls}{provider="openai",model="chat",outcome="provider_error"}`]: grow(5, 30), [`${retries}{model="chat",reason="rate_limit"}`]: grow(5, 30) })],
      },
    },
  ];
}
