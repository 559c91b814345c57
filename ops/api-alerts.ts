// Alerts on the API surface (issue 28): many requests refused because a field cannot be translated
// faithfully (clients send a feature their model's provider lacks), and drains after client disconnects
// cut by their cap (usage records, and so bills and budgets, possibly short). Same shape as
// ops/alerts.ts; each has docs/runbooks/<Alert>.md.
import type { OpsConfig } from './config.ts';
import { at, grow } from './lib/fixtures.ts';
import { metric, params, q, type AlertRule } from './lib/model.ts';

export function apiAlerts(config: OpsConfig): AlertRule[] {
  const { t, f } = params(config);
  const refusals = metric('translationRefusals');
  const requests = metric('apiRequests');
  const drains = metric('streamDrains');
  // A refused request is an API request too (outcome caller_error).
  const served = (ok: number, refused: number) => ({
    [`${requests}{api="responses",outcome="success"}`]: grow(ok, 30), [`${requests}{api="responses",outcome="caller_error"}`]: grow(refused, 30),
    [`${refusals}{field="previous_response_id"}`]: grow(refused, 30),
  });
  return [
    {
      alert: 'VigilTranslationRefusalsHigh', severity: 'warning', for: f('sustained'), dashboard: 'api',
      expr: q`sum by (field) (rate(${refusals}[5m])) / on() group_left() sum(rate(${requests}[5m])) > ${t('refusalRatio')}`,
      summary: 'Many requests are refused because a field cannot be translated to their provider.',
      description: q`{{ $value | humanizePercentage }} of API requests over 5 minutes were refused for field {{ $labels.field }} (alert above ${t('refusalRatio')}): clients use a feature the provider behind their model does not have.`,
      tests: {
        firing: { ...at(30, served(90, 10)), labels: { field: 'previous_response_id' }, value: '10%' },
        quiet: [at(30, served(99, 1)), at(30, served(50, 0))],
      },
    },
    {
      alert: 'VigilStreamDrainsCapped', severity: 'warning', for: f('sustained'), dashboard: 'api',
      expr: q`sum(rate(${drains}{result="capped"}[15m])) / sum(rate(${drains}[15m])) > ${t('drainCappedRatio')}`,
      summary: 'Streams drained after a client disconnect are cut before their final usage.',
      description: q`{{ $value | humanizePercentage }} of drains over 15 minutes hit upstream.disconnect_drain's time or byte cap (alert above ${t('drainCappedRatio')}): their usage records are partial, so spend and budgets may be short.`,
      tests: {
        firing: { ...at(40, { [`${drains}{result="complete"}`]: grow(6, 40), [`${drains}{result="capped"}`]: grow(4, 40) }), labels: {}, value: '40%' },
        quiet: [at(40, { [`${drains}{result="complete"}`]: grow(19, 40), [`${drains}{result="capped"}`]: grow(1, 40) })],
      },
    },
  ];
}
