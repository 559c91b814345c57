// The "Routing and resilience" dashboard (issue 27): circuit breakers per deployment and the aliases they
// leave without a route, which deployment the router chose and how fast, attempts, retries and fallbacks,
// load per deployment, and the response cache. The routing alerts (ops/routing-alerts.ts) link here.
import type { OpsConfig } from './config.ts';
import { metric } from './lib/model.ts';
import { base, quantile, rate, row, sel, stat, stateTimeline, timeseries } from './lib/panels.ts';

export function routing(config: OpsConfig) {
  const t = config.thresholds;
  // Breakers and routable counts are per replica: the worst instance is what some clients see.
  const state = `max by (deployment) (${metric('breakerState')}${sel()})`;
  const routable = `min by (model) (${metric('routableDeployments')}${sel()})`;
  const lookups = (result: string) => `sum by (model) (${rate('cacheLookups', sel(`result=~"${result}"`))})`;
  const routedFrom = `sum by (from) (label_join(${rate('routingDecisions', sel())}, "from", "", "model"))`;
  return base('routing', 'Vigil / Routing and resilience', 'Circuit breakers per deployment, routable deployments per alias, routing decisions and their latency, attempts, retries, fallbacks, in-flight attempts per deployment and the response cache.')
    .withRow(row('Breakers'))
    .withPanel(stat('Open breakers', [`sum(${state} == bool 1)`], { thresholds: [[1, 'red']],
      description: 'Deployments whose breaker is open on at least one instance (selection skips them).' }))
    .withPanel(stat('Half-open breakers', [`sum(${state} == bool 2)`], { thresholds: [[1, 'yellow']],
      description: 'Deployments letting breaker.half_open_requests trial attempts through after their cooldown.' }))
    .withPanel(stat('Aliases without a route', [`sum(${routable} == bool 0)`], { thresholds: [[1, 'red']],
      description: 'Aliases with no routable deployment on at least one instance: their requests fall back or get 503 GW_NO_DEPLOYMENT_AVAILABLE.' }))
    .withPanel(stat('Retry share', [`sum(${rate('retries', sel())}) / sum(${rate('llmCalls', sel())})`], { unit: 'percentunit', thresholds: [[t.retryRatio / 2, 'yellow'], [t.retryRatio, 'red']],
      description: 'Retries per upstream attempt (VigilRetryStorm).' }))
    .withPanel(stat('Cache hit ratio', [`sum(${rate('cacheLookups', sel('result="hit"'))}) / sum(${rate('cacheLookups', sel('result=~"hit|miss"'))})`], { unit: 'percentunit',
      description: 'Hits over hits and misses, all caching aliases; bypassed lookups (Cache-Control no-cache / no-store) left out.' }))
    .withPanel(stat('Routing decision p99', [quantile(0.99, 'routingDuration', sel(), [])], { unit: 's' }))
    .withPanel(stateTimeline('Breaker state by deployment', [[state, '{{deployment}}']], { 0: ['closed', 'green'], 1: ['open', 'red'], 2: ['half-open', 'yellow'] }, { w: 24,
      description: 'The worst state over the instances (breakers are per replica; with redis.url an opening is shared). Open: skipped by selection for breaker.cooldown_ms; half-open: trial attempts only.' }))
    .withPanel(timeseries('Breaker transitions by deployment', [[`sum by (deployment, to) (increase(${metric('breakerTransitions')}${sel()}[$__rate_interval]))`, '{{deployment}} → {{to}}']],
      { description: 'State entered: open, half_open, closed. A deployment cycling open → half_open → open keeps failing its trials.' }))
    .withPanel(timeseries('Routable deployments by alias', [[routable, '{{model}}']], { min: 0,
      description: 'Deployments a request could be sent to now (breaker not open), the lowest over the instances; 0: VigilAliasUnroutable.' }))
    .withRow(row('Routing decisions and attempts'))
    .withPanel(timeseries('Routing decisions by deployment and strategy', [[`sum by (model, deployment, strategy) (${rate('routingDecisions', sel())})`, '{{model}} → {{deployment}} ({{strategy}})']],
      { unit: 'ops', stack: true, description: 'One per attempt: the alias (model), the deployment chosen and the strategy that chose it.' }))
    .withPanel(timeseries('Routing decision latency', [50, 99].map((p) => [quantile(p / 100, 'routingDuration', sel(), []), `p${p}`]), { unit: 's',
      description: 'Time to choose a deployment: breakers, max_parallel and the strategy.' }))
    .withPanel(timeseries('Attempts per request by route', [50, 99].flatMap((p) => [[quantile(p / 100, 'requestAttempts', sel(), ['route']), `p${p} {{route}}`] as [string, string]]),
      { min: 0, description: 'Upstream attempts of requests that made at least one, retries and fallbacks included.' }))
    .withPanel(timeseries('In-flight attempts by deployment', [[`sum by (deployment) (${metric('deploymentInFlight')}${sel()})`, '{{deployment}}']],
      { description: 'Summed over instances; max_parallel caps each instance\'s count, least_in_flight routes on it.' }))
    .withRow(row('Retries and fallbacks'))
    .withPanel(timeseries('Retries by alias and reason', [[`sum by (model, reason) (${rate('retries', sel())})`, '{{model}} {{reason}}']], { unit: 'ops', stack: true,
      description: 'Attempts made again on an alias\'s deployments, by the error class of the failure before.' }))
    .withPanel(timeseries('Fallbacks from → to', [[`sum by (from, to, reason) (${rate('fallbacks', sel())})`, '{{from}} → {{to}} ({{reason}})']], { unit: 'ops', stack: true,
      description: 'Requests moved to a fallback alias, by the error class (fallback_on) that moved them.' }))
    .withPanel(timeseries('Fallback share by alias', [[`sum by (from) (${rate('fallbacks', sel())}) / ${routedFrom}`, '{{from}}']], { unit: 'percentunit', min: 0,
      description: `Fallbacks out of an alias per attempt routed on it; VigilFallbackRateHigh above ${t.fallbackRatio}.` }))
    .withPanel(timeseries('Retry share by alias', [[`sum by (model) (${rate('retries', sel())}) / sum by (model) (${rate('llmCalls', sel())})`, '{{model}}']], { unit: 'percentunit', min: 0,
      description: `Retries per upstream attempt; VigilRetryStorm above ${t.retryRatio} over all aliases.` }))
    .withRow(row('Response cache'))
    .withPanel(timeseries('Cache hit ratio by alias', [[`${lookups('hit')} / ${lookups('hit|miss')}`, '{{model}}']], { unit: 'percentunit', min: 0, max: 1,
      description: 'hit / (hit + miss) for aliases with cache.enabled; bypassed lookups left out.' }))
    .withPanel(timeseries('Cache lookups by alias and result', [[`sum by (model, result) (${rate('cacheLookups', sel())})`, '{{model}} {{result}}']], { unit: 'ops', stack: true,
      description: 'bypass: the client sent Cache-Control no-cache (stored, not looked up) or no-store (neither).' }))
    .withPanel(timeseries('Cache entries by instance', [[`sum by (instance) (${metric('cacheEntries')}${sel()})`, '{{instance}}']],
      { w: 24, h: 6, description: 'Answers held in each process\'s memory cache (routing.cache.max_entries); a Redis cache is not counted.' }));
}
