// Alerts on access and spend (issue 26): authentication failures and the brute-force guard, per-key
// spend, budgets nearly or fully used, rate-limit rejections, Redis fallback, unpriced calls, lost
// audit events and an open gateway. Same shape as ops/alerts.ts; each has docs/runbooks/<Alert>.md.
import type { OpsConfig } from './config.ts';
import { at, gauge, grow } from './lib/fixtures.ts';
import { metric, params, q, type AlertRule } from './lib/model.ts';

const INSTANCE = 'instance="vigil:9091"';

export function accessAlerts(config: OpsConfig): AlertRule[] {
  const { t, f } = params(config);
  const failures = metric('authFailures');
  const blocked = metric('authBlocked');
  const cost = metric('identityCost');
  const quota = metric('quotaUsed');
  const checks = metric('rateLimitChecks');
  const quotaLabels = 'identity_kind="team",identity_id="search",period="month"';
  return [
    {
      alert: 'VigilAuthFailureRateHigh', severity: 'warning', for: f('authFailures'), dashboard: 'access',
      expr: q`sum by (reason) (rate(${failures}[5m])) > ${t('authFailuresPerSec')}`,
      summary: 'Many requests fail gateway-key authentication for one reason.',
      description: q`{{ $value | printf "%.2f" }} requests per second were rejected with reason {{ $labels.reason }} over 5 minutes (alert above ${t('authFailuresPerSec')}): a client with a revoked, expired or mistyped key, or one calling a model its key does not allow.`,
      tests: {
        firing: { ...at(30, { [`${failures}{reason="key_revoked"}`]: grow(12, 30) }), labels: { reason: 'key_revoked' }, value: '0.20' },
        quiet: [at(30, { [`${failures}{reason="key_revoked"}`]: grow(3, 30), [`${failures}{reason="missing_key"}`]: grow(3, 30) })],
      },
    },
    {
      alert: 'VigilBruteForceDetected', severity: 'critical', for: f('bruteForce'), dashboard: 'access',
      expr: q`(sum(rate(${blocked}{action="blocked"}[5m])) * 60 > 0) or (sum(rate(${failures}[5m])) * 60 > ${t('bruteForcePerMin')})`,
      summary: 'A client is guessing gateway keys.',
      description: q`{{ $value | humanize }} per minute: answers refused by the brute-force guard (auth.brute_force), or else failed authentications above ${t('bruteForcePerMin')} a minute, over 5 minutes.`,
      tests: {
        firing: { ...at(30, { [`${blocked}{action="blocked"}`]: grow(6, 30), [`${failures}{reason="invalid_key"}`]: grow(5, 30) }), labels: {}, value: '6' },
        alsoFiring: [{ ...at(30, { [`${failures}{reason="invalid_key"}`]: grow(30, 30) }), labels: {}, value: '30' }],
        quiet: [at(30, { [`${blocked}{action="delayed"}`]: grow(10, 30), [`${blocked}{action="blocked"}`]: '0x30', [`${failures}{reason="invalid_key"}`]: grow(5, 30) })],
      },
    },
    {
      alert: 'VigilKeyCostSpike', severity: 'warning', for: f('keyCost'), dashboard: 'access',
      expr: q`sum by (identity) (rate(${cost}{identity!="anonymous"}[1h])) * 3600 > ${t('identityCostPerHour')}`,
      summary: 'One gateway key is spending fast.',
      description: q`Gateway key {{ $labels.identity }} spent at {{ $value | humanize }} US dollars per hour over the last hour (alert above ${t('identityCostPerHour')}).`,
      tests: {
        firing: { ...at(90, { [`${cost}{identity="k_3f9a2c"}`]: '0+0.5x90' }), labels: { identity: 'k_3f9a2c' }, value: '30' },
        quiet: [at(90, { [`${cost}{identity="k_3f9a2c"}`]: '0+0.05x90', [`${cost}{identity="anonymous"}`]: '0+0.5x90' })],
      },
    },
    {
      alert: 'VigilQuotaNearExhaustion', severity: 'warning', for: f('warning'), dashboard: 'access',
      expr: q`max by (identity_kind, identity_id, period) (${quota}) > ${t('quotaUsedRatio')}`,
      summary: 'A budget is almost spent.',
      description: q`The {{ $labels.period }} budget of {{ $labels.identity_kind }} {{ $labels.identity_id }} is {{ $value | humanizePercentage }} spent or reserved (alert above ${t('quotaUsedRatio')}): its requests will be refused with GW_BUDGET_EXCEEDED.`,
      tests: {
        firing: { ...at(30, gauge(quota, quotaLabels, 0.95)), labels: { identity_kind: 'team', identity_id: 'search', period: 'month' }, value: '95%' },
        quiet: [at(30, gauge(quota, quotaLabels, 0.5))],
      },
    },
    {
      alert: 'VigilQuotaExhausted', severity: 'info', for: f('warning'), dashboard: 'access',
      expr: q`max by (identity_kind, identity_id, period) (${quota}) >= 1`,
      summary: 'A budget is spent; its requests are refused.',
      description: q`The {{ $labels.period }} budget of {{ $labels.identity_kind }} {{ $labels.identity_id }} is {{ $value | humanizePercentage }} used: requests charged to it get 429 GW_BUDGET_EXCEEDED until the period ends (UTC) or the budget is raised.`,
      tests: {
        firing: { ...at(30, gauge(quota, quotaLabels, 1)), labels: { identity_kind: 'team', identity_id: 'search', period: 'month' }, value: '100%' },
        quiet: [at(30, gauge(quota, quotaLabels, 0.95))],
      },
    },
    {
      alert: 'VigilRateLimitRejectionsHigh', severity: 'warning', for: f('warning'), dashboard: 'access',
      expr: q`sum by (scope) (rate(${checks}{result="rejected"}[5m])) / sum by (scope) (rate(${checks}[5m])) > ${t('rateLimitRejectedRatio')}`,
      summary: 'Many requests are refused by rate limits.',
      description: q`{{ $value | humanizePercentage }} of {{ $labels.scope }} rate-limit checks were rejected over 5 minutes (alert above ${t('rateLimitRejectedRatio')}): clients get 429 GW_RATE_LIMITED.`,
      tests: {
        firing: { ...at(30, { [`${checks}{scope="rpm",result="allowed"}`]: grow(80, 30), [`${checks}{scope="rpm",result="rejected"}`]: grow(20, 30) }), labels: { scope: 'rpm' }, value: '20%' },
        quiet: [at(30, { [`${checks}{scope="rpm",result="allowed"}`]: grow(95, 30), [`${checks}{scope="rpm",result="rejected"}`]: grow(5, 30), [`${checks}{scope="tpm",result="allowed"}`]: grow(100, 30) })],
      },
    },
    {
      alert: 'VigilRedisDegraded', severity: 'warning', for: f('redisDegraded'), dashboard: 'access',
      expr: q`max by (instance) (${metric('redisDegraded')}) == 1`,
      summary: 'A Vigil instance cannot reach Redis; shared limits and budgets are not shared.',
      description: q`{{ $labels.instance }} cannot reach Redis: with redis.on_failure open it counts limits and budgets in its own memory, with closed it refuses limited requests with 503 GW_LIMITS_UNAVAILABLE.`,
      tests: {
        firing: { ...at(30, gauge(metric('redisDegraded'), INSTANCE, 1)), labels: { instance: 'vigil:9091' }, value: '1' },
        quiet: [at(30, gauge(metric('redisDegraded'), INSTANCE, 0))],
      },
    },
    {
      alert: 'VigilUnpricedCalls', severity: 'warning', for: f('warning'), dashboard: 'access',
      expr: q`sum by (provider, model) (increase(${metric('unpricedCalls')}[1h])) > 0`,
      summary: 'Calls to a model without a price are counted as free.',
      description: q`{{ $value | printf "%.0f" }} calls to {{ $labels.provider }} / {{ $labels.model }} in the last hour reported tokens but were priced at 0 USD: spend reports and budgets miss them.`,
      tests: {
        firing: { ...at(30, { [`${metric('unpricedCalls')}{provider="openai",model="gpt-5-preview"}`]: '0x10 0+1x20' }), labels: { provider: 'openai', model: 'gpt-5-preview' }, value: '19' },
        quiet: [at(30, { [`${metric('unpricedCalls')}{provider="openai",model="gpt-5-preview"}`]: '7x30' })],
      },
    },
    {
      alert: 'VigilAuditEventsDropped', severity: 'warning', for: f('warning'), dashboard: 'access',
      expr: q`sum by (instance) (increase(${metric('auditDropped')}[1h])) > 0`,
      summary: 'Vigil dropped audit events.',
      description: q`{{ $labels.instance }} gave up on {{ $value | printf "%.0f" }} audit events in the last hour: the audit log misses key changes, failed authentications or refusals.`,
      tests: {
        firing: { ...at(30, { [`${metric('auditDropped')}{${INSTANCE}}`]: '0x10 0+3x20' }), labels: { instance: 'vigil:9091' }, value: '57' },
        quiet: [at(30, { [`${metric('auditDropped')}{${INSTANCE}}`]: '0x30' })],
      },
    },
    {
      alert: 'VigilGatewayOpen', severity: 'info', for: f('gatewayOpen'), dashboard: 'access',
      expr: q`max by (instance) (${metric('authOpen')}) == 1`,
      summary: 'Vigil serves requests without a gateway key.',
      description: q`{{ $labels.instance }} answers every request as anonymous: no key exists yet and auth.required is unset, or auth.required is false.`,
      tests: {
        firing: { ...at(30, gauge(metric('authOpen'), INSTANCE, 1)), labels: { instance: 'vigil:9091' }, value: '1' },
        quiet: [at(30, gauge(metric('authOpen'), INSTANCE, 0))],
      },
    },
  ];
}
