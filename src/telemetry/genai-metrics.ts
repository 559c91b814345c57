// OTLP metrics push: the GenAI semantic-convention instruments (gen_ai.client.operation.duration,
// gen_ai.client.token.usage, gen_ai.server.time_to_first_token, gen_ai.server.time_per_output_token) with
// their recommended bucket boundaries, fed once per request at finish. The OTLP view of the numbers the
// Prometheus vigil_llm_* family carries (catalog.ts names the mapping), for backends that take OTLP only.
// Loaded (with the metrics SDK and its exporter) only when telemetry.otlp.metrics.enabled is set.
import { randomUUID } from 'node:crypto';
import type { Attributes, Histogram } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Attempt } from '../core/attempt.ts';
import type { RequestContext } from '../core/context.ts';
import { withDeadline } from './deadline.ts';
import { TPOT_BUCKETS, TTFT_BUCKETS } from './metrics/catalog.ts';
import { metricExporter, type OtlpSettings } from './otlp.ts';

/** Semantic-convention advice for gen_ai.client.operation.duration, in seconds. */
export const OPERATION_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** Semantic-convention advice for gen_ai.client.token.usage. */
export const TOKEN_USAGE_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

export interface GenAiMetricsOptions {
  settings: OtlpSettings;
  /** service.name and friends (otlp.ts). */
  resource: Attributes;
  version: string;
  intervalMs: number;
  /** Configured public model names; anything else is recorded as `other` (bounded series, as the Recorder). */
  models: Iterable<string>;
  /** Configured provider id → gen_ai.provider.name. */
  providerNames: ReadonlyMap<string, string>;
  shutdownTimeoutMs: number;
}

export interface GenAiMetrics {
  /** One request's GenAI measurements, from its context at finish: one operation per attempt that went out. */
  record(ctx: RequestContext, durationSeconds: number): void;
  /** Exports what was measured since the last push and stops; bounded by the export timeout. */
  shutdown(): Promise<void>;
}

export async function createGenAiMetrics(options: GenAiMetricsOptions): Promise<GenAiMetrics> {
  const reader = new PeriodicExportingMetricReader({
    exporter: await metricExporter(options.settings),
    exportIntervalMillis: options.intervalMs,
    // The SDK requires timeout ≤ interval.
    exportTimeoutMillis: Math.min(options.settings.batch.export_timeout_ms, options.intervalMs),
  });
  // Each process (cluster workers too) pushes its own cumulative series: service.instance.id keeps them apart.
  const resource = resourceFromAttributes({ 'service.instance.id': randomUUID(), ...options.resource });
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('vigil', options.version);
  const histogram = (name: string, unit: string, description: string, buckets: number[]) =>
    meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: buckets } });
  const instruments: Instruments = {
    duration: histogram('gen_ai.client.operation.duration', 's', 'Upstream GenAI operation duration.', OPERATION_DURATION_BUCKETS),
    tokens: histogram('gen_ai.client.token.usage', '{token}', 'Input and output tokens used per upstream operation.', TOKEN_USAGE_BUCKETS),
    ttft: histogram('gen_ai.server.time_to_first_token', 's', 'Time to the first output token of a streamed response.', TTFT_BUCKETS),
    tpot: histogram('gen_ai.server.time_per_output_token', 's', 'Time per output token after the first.', TPOT_BUCKETS),
  };
  const models = new Set(options.models);
  return {
    record: (ctx, durationSeconds) => recordGenAi(instruments, models, options.providerNames, ctx, durationSeconds),
    async shutdown() {
      await withDeadline(provider.shutdown(), options.shutdownTimeoutMs + 500, 'OpenTelemetry metrics shutdown').catch(() => undefined);
    },
  };
}

interface Instruments { duration: Histogram; tokens: Histogram; ttft: Histogram; tpot: Histogram }

/** Same timing rules as the Recorder's vigil_llm_* histograms, so both views agree: one operation per attempt. */
function recordGenAi(m: Instruments, models: ReadonlySet<string>, providerNames: ReadonlyMap<string, string>, ctx: RequestContext, durationSeconds: number): void {
  for (const attempt of ctx.attempts) if (attempt.started) recordAttempt(m, models, providerNames, ctx, attempt, durationSeconds * 1000);
}

function recordAttempt(m: Instruments, models: ReadonlySet<string>, providerNames: ReadonlyMap<string, string>, ctx: RequestContext, attempt: Attempt, untilMs: number): void {
  const target = attempt.target;
  const attributes: Attributes = {
    'gen_ai.operation.name': ctx.operation,
    'gen_ai.provider.name': providerNames.get(target.providerId) ?? target.providerId,
    'gen_ai.request.model': models.has(target.name) ? target.name : 'other',
  };
  const answered = attempt.status > 0 && attempt.status < 400;
  if (answered) attributes['gen_ai.response.model'] = target.upstreamModel;
  if (attempt.error) attributes['error.type'] = attempt.error.errorClass;

  const endedAt = attempt.endMs(untilMs);
  m.duration.record((endedAt - attempt.startedAt) / 1000, attributes);
  const usage = attempt.usage;
  if (answered || usage.inputTokens || usage.outputTokens) {
    m.tokens.record(usage.inputTokens, { ...attributes, 'gen_ai.token.type': 'input' });
    m.tokens.record(usage.outputTokens, { ...attributes, 'gen_ai.token.type': 'output' });
  }
  if (attempt.firstTokenAt >= 0) {
    m.ttft.record((attempt.firstTokenAt - attempt.startedAt) / 1000, attributes);
    if (usage.outputTokens > 1) m.tpot.record((endedAt - attempt.firstTokenAt) / 1000 / (usage.outputTokens - 1), attributes);
  }
}
