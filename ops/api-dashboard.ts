// The "API surface and fidelity" dashboard (issue 28): requests by the API clients used (chat completions,
// messages, responses, count_tokens, completions, passthrough…), the prompt cache per provider and model
// (tokens read and written, and the hit ratio no peer shows), fields refused because no faithful
// translation exists, streams drained after their client left and the partial usage records a capped
// drain leaves, and the raw passthrough's bytes. The API alerts (ops/api-alerts.ts) link here.
import type { OpsConfig } from './config.ts';
import { metric } from './lib/model.ts';
import { base, llm, rate, row, sel, stat, timeseries } from './lib/panels.ts';

export function apiSurface(config: OpsConfig) {
  const t = config.thresholds;
  const tokens = (type: string) => `sum by (provider, model) (${rate('llmTokens', llm(`type="${type}"`))})`;
  const refusalShare = `sum(${rate('translationRefusals', sel())}) / sum(${rate('apiRequests', sel())})`;
  const cappedShare = `sum(${rate('streamDrains', sel('result="capped"'))}) / sum(${rate('streamDrains', sel())})`;
  return base('api', 'Vigil / API surface and fidelity', 'Requests by API, the prompt cache by provider and model (read and written tokens, hit ratio), translation refusals by field, streams drained after a client disconnect, partial usage records and raw passthrough bytes.', ['instance', 'provider', 'model'])
    .withRow(row('Requests by API'))
    .withPanel(stat('Prompt-cache hit ratio', [`sum(${rate('llmTokens', llm('type="cached_input"'))}) / sum(${rate('llmTokens', llm('type="input"'))})`], { unit: 'percentunit',
      description: 'Input tokens read from a provider\'s prompt cache over all input tokens (normalised: input counts cached tokens for every provider).' }))
    .withPanel(stat('Refusal share', [refusalShare], { unit: 'percentunit', thresholds: [[t.refusalRatio / 2, 'yellow'], [t.refusalRatio, 'red']],
      description: `Requests refused because a field cannot be translated faithfully, per API request (VigilTranslationRefusalsHigh above ${t.refusalRatio}).` }))
    .withPanel(stat('Capped drain share', [cappedShare], { unit: 'percentunit', thresholds: [[t.drainCappedRatio / 2, 'yellow'], [t.drainCappedRatio, 'red']],
      description: `Drains after a client disconnect cut by upstream.disconnect_drain, per drain (VigilStreamDrainsCapped above ${t.drainCappedRatio}).` }))
    .withPanel(stat('Partial records in range', [`sum(increase(${metric('partialUsage')}${sel()}[$__range]))`], { thresholds: [[1, 'yellow']],
      description: 'Usage records in the time range whose token counts may be short: billed and recorded with what arrived before the cap.' }))
    .withPanel(stat('Passthrough', [`sum(${rate('passthroughBytes', sel())})`], { unit: 'Bps',
      description: 'Bytes per second relayed by the raw passthrough of unmodelled /v1/* paths (providers[].passthrough), both directions.' }))
    .withPanel(stat('Requests/s', [`sum(${rate('apiRequests', sel())})`], { unit: 'reqps' }))
    .withPanel(timeseries('Requests by API', [[`sum by (api) (${rate('apiRequests', sel())})`, '{{api}}']], { unit: 'reqps', stack: true,
      description: 'chat (chat completions), messages, responses, count_tokens (both token-counting endpoints), completions (legacy), embeddings, models, passthrough, admin.' }))
    .withPanel(timeseries('Failed share by API', [[`sum by (api) (${rate('apiRequests', sel('outcome!="success"'))}) / sum by (api) (${rate('apiRequests', sel())})`, '{{api}}']], { unit: 'percentunit', min: 0,
      description: 'Requests not answered successfully, callers\' errors (refusals among them) included; vigil_http_requests_total has the outcome per route.' }))
    .withRow(row('Prompt cache'))
    .withPanel(timeseries('Prompt-cache tokens read and written', [[tokens('cached_input'), 'read {{provider}} {{model}}'], [tokens('cache_write'), 'written {{provider}} {{model}}']], { unit: 'short',
      description: 'Tokens per second read from and written to the providers\' prompt caches (Anthropic cache_control, OpenAI automatic caching), both subsets of input.' }))
    .withPanel(timeseries('Prompt-cache hit ratio by provider and model', [[`${tokens('cached_input')} / ${tokens('input')}`, '{{provider}} {{model}}']], { unit: 'percentunit', min: 0, max: 1,
      description: 'cached_input / input: the share of input tokens served from the prompt cache. Low for a model with long stable prompts: its cache breakpoints or prefixes change.' }))
    .withRow(row('Fidelity, drains and passthrough'))
    .withPanel(timeseries('Translation refusals by field', [[`sum by (field) (${rate('translationRefusals', sel())})`, '{{field}}']], { unit: 'reqps', stack: true,
      description: 'Requests answered 400 GW_REQUEST_UNSUPPORTED naming a field the target provider cannot honour (docs/translation.md).' }))
    .withPanel(timeseries('Stream drains by result', [[`sum by (result) (${rate('streamDrains', sel())})`, '{{result}}']], { unit: 'ops', stack: true,
      description: 'Streams whose client left, read on to the upstream\'s final usage: complete, or capped by upstream.disconnect_drain (max_ms, max_bytes).' }))
    .withPanel(timeseries('Partial usage records', [[`sum(${rate('partialUsage', sel())})`, 'partial']], { unit: 'ops',
      description: 'Usage records marked partial: a capped drain; their token counts (and cost) may be short.' }))
    .withPanel(timeseries('Passthrough bytes by provider and direction', [[`sum by (provider, direction) (${rate('passthroughBytes', sel())})`, '{{provider}} {{direction}}']], { unit: 'Bps',
      description: 'Raw passthrough of /v1/* paths Vigil does not model (files, batches, images, audio, rerank); request: to the provider, response: back.' }));
}
