// The "Access and spend" dashboard (issue 26): who is let in and who is kept out (authentication, the
// brute-force guard, keys), rate limits, budgets and per-key spend, and the machinery behind them
// (Redis, the audit log, the key and budget stores). The access alerts (ops/access-alerts.ts) link here.
import type { OpsConfig } from './config.ts';
import { metric } from './lib/model.ts';
import { base, quantile, rate, row, sel, stat, table, timeseries } from './lib/panels.ts';

export function access(config: OpsConfig) {
  const t = config.thresholds;
  // Gauges every instance reports for the same shared store: the largest is the store's view.
  const keys = (state: string) => `max(${metric('gatewayKeys')}${sel(`state="${state}"`)})`;
  const rejected = (by: string) => `sum by (${by}) (${rate('rateLimitChecks', sel('result="rejected"'))}) / sum by (${by}) (${rate('rateLimitChecks', sel())})`;
  return base('access', 'Vigil / Access and spend', 'Gateway keys and authentication, the brute-force guard, rate limits, budgets and per-key spend, unpriced calls, Redis, the audit log and the access stores.')
    .withRow(row('Keys and authentication'))
    .withPanel(stat('Gateway open', [`max(${metric('authOpen')}${sel()})`], { thresholds: [[1, 'yellow']],
      description: '1: requests are served without a key (no key exists and auth.required is unset, or auth.required: false).' }))
    .withPanel(stat('Active keys', [keys('active')]))
    .withPanel(stat('Revoked keys', [keys('revoked')]))
    .withPanel(stat('Expired keys', [keys('expired')]))
    .withPanel(stat('Auth failures/min', [`sum(${rate('authFailures', sel())}) * 60`], { thresholds: [[t.bruteForcePerMin / 4, 'yellow'], [t.bruteForcePerMin, 'red']] }))
    .withPanel(stat('Blocked answers/min', [`sum(${rate('authBlocked', sel('action="blocked"'))}) * 60`], { thresholds: [[0.01, 'red']] }))
    .withPanel(timeseries('Auth failures by reason', [[`sum by (reason) (${rate('authFailures', sel())})`, '{{reason}}']], { unit: 'reqps', stack: true }))
    .withPanel(timeseries('Brute-force guard: delayed and blocked', [[`sum by (action) (${rate('authBlocked', sel())})`, '{{action}}']], { unit: 'reqps',
      description: 'Answers to client addresses that failed authentication auth.brute_force.max_failures times: delayed first, then refused with 429 GW_AUTH_BLOCKED.' }))
    .withPanel(timeseries('Keys by state', [[`max by (state) (${metric('gatewayKeys')}${sel()})`, '{{state}}']], { w: 24, h: 6 }))
    .withRow(row('Rate limits'))
    .withPanel(timeseries('Rate-limit checks by scope and result', [[`sum by (scope, result) (${rate('rateLimitChecks', sel())})`, '{{scope}} {{result}}']], { unit: 'ops',
      description: 'result degraded: Redis could not answer and redis.on_failure decided.' }))
    .withPanel(timeseries('Rate-limit rejection ratio by scope', [[rejected('scope'), '{{scope}}']], { unit: 'percentunit', min: 0 }))
    .withRow(row('Budgets and spend'))
    .withPanel(timeseries('Budget refusals by scope and period', [[`sum by (scope, period) (${rate('budgetExceeded', sel())})`, '{{scope}} {{period}}']], { unit: 'reqps' }))
    .withPanel(table('Budget used, top 10 identities', [[`topk(10, max by (identity_kind, identity_id, period) (${metric('quotaUsed')}${sel()}))`]], { unit: 'percentunit',
      description: 'Spent plus reserved over the budget; 1 is exhausted. Updated as requests are admitted and settled.' }))
    .withPanel(timeseries('Spend per key, top 10 (USD/h)', [[`topk(10, sum by (identity) (${rate('identityCost', sel('identity!="anonymous"'))}) * 3600)`, '{{identity}}']], { unit: 'currencyUSD',
      description: 'Per gateway key (metrics.identity_cost, on by default); anonymous traffic of an open gateway is left out.' }))
    .withPanel(timeseries('Unpriced calls by model', [[`sum by (provider, model) (${rate('unpricedCalls', sel())})`, '{{provider}} {{model}}']], { unit: 'reqps',
      description: 'Calls that reported tokens for a model without a price: counted at 0 USD, so budgets do not limit them. Add pricing in vigil.yaml (models[].pricing).' }))
    .withRow(row('Redis, audit and stores'))
    .withPanel(timeseries('Redis degraded and health state', [[`max by (instance) (${metric('redisDegraded')}${sel()})`, 'degraded {{instance}}'], [`max by (instance) (${metric('redisHealth')}${sel()})`, 'state {{instance}}']], { min: 0,
      description: 'degraded 1: counters fall back per redis.on_failure. state: 0 ready, 1 reconnecting, 2 down.' }))
    .withPanel(timeseries('Counters in memory', [[`sum by (instance) (${metric('rateLimitBuckets')}${sel()})`, '{{instance}}']],
      { description: 'Rate-limit, budget and parallel buckets held in process memory (with Redis, only the fallback ones).' }))
    .withPanel(timeseries('Audit events by type', [[`sum by (type) (${rate('auditEvents', sel())})`, '{{type}}']], { unit: 'ops', stack: true }))
    .withPanel(timeseries('Audit events dropped', [[`sum by (instance) (${rate('auditDropped', sel())})`, '{{instance}}']], { unit: 'ops' }))
    .withPanel(timeseries('Store operation p99 by store and operation', [[quantile(0.99, 'storeQueryDuration', sel(), ['store', 'operation']), '{{store}} {{operation}}']], { unit: 's' }))
    .withPanel(timeseries('PostgreSQL pool connections', [[`sum by (state) (${metric('storeConnections')}${sel('store="postgres"')})`, '{{state}}']],
      { description: 'total, idle and waiting (queries queued for a connection; store.pool_size bounds total per instance).' }));
}
