// Finish: runs once per request, also after errors and client aborts. Records metrics, writes the one
// log line, ends the trace span and appends the usage record, all from the context.
import { isoNow } from '../core/clock.ts';
import type { RequestContext } from '../core/context.ts';
import type { UsageLedger } from '../store/ports.ts';
import type { Recorder } from '../telemetry/metrics/record.ts';
import type { GenAiMetrics } from '../telemetry/export/genai-metrics.ts';
import type { RequestLines } from '../telemetry/log.ts';

export interface FinishDeps {
  recorder: Recorder;
  ledger: UsageLedger;
  log: RequestLines;
  /** GenAI histograms over OTLP; absent (no work at all) unless telemetry.otlp.metrics.enabled. */
  genAiMetrics?: GenAiMetrics;
}

export type Finish = (ctx: RequestContext) => void;

export function createFinish({ recorder, ledger, log, genAiMetrics }: FinishDeps): Finish {
  return (ctx) => {
    const durationMs = performance.now() - ctx.startedAt;
    // Cut mid-answer, by the client (499) or by the drain timeout (503): the status says so even after a
    // stream's 200 went out, so availability counts the gateway's cuts and not the client's.
    if (ctx.error && (ctx.error.errorClass === 'client_abort' || ctx.error.code === 'GW_UNAVAILABLE_DRAINING')) ctx.status = ctx.error.status;
    ctx.costUsd = costOf(ctx);
    recorder.requestFinished(ctx, durationMs / 1000);
    genAiMetrics?.record(ctx, durationMs / 1000);
    const error = ctx.error;
    const failed = error !== undefined && error.status >= 500;
    if (failed) log.warn({ ...requestLine(ctx, durationMs), err: error.cause ?? error }, 'request failed');
    else if (log.infoEnabled) log.info(requestLine(ctx, durationMs), 'request'); // not even built when off
    ctx.span?.end(ctx); // GenAI and HTTP attributes from the context, then the span ends

    if (ctx.target && ctx.upstreamStartedAt >= 0) {
      ledger.append({
        time: isoNow(),
        requestId: ctx.requestId,
        identityId: ctx.identityId,
        route: ctx.route,
        provider: ctx.target.providerId,
        model: ctx.target.name,
        upstreamModel: ctx.target.upstreamModel,
        inputTokens: ctx.usage.inputTokens,
        outputTokens: ctx.usage.outputTokens,
        cachedInputTokens: ctx.usage.cachedInputTokens,
        costUsd: ctx.costUsd,
        durationMs: round(durationMs),
        status: ctx.status,
        errorClass: error?.errorClass ?? '',
        stream: ctx.stream,
      });
    }
  };
}

/** The request's log line: an allowlist of the context's fields (the model is the one value a client wrote). */
function requestLine(ctx: RequestContext, durationMs: number): Record<string, unknown> {
  const error = ctx.error;
  return {
    request_id: ctx.requestId,
    trace_id: ctx.span?.traceId,
    span_id: ctx.span?.spanId,
    identity_id: ctx.identityId,
    method: ctx.method,
    route: ctx.route,
    status: ctx.status,
    duration_ms: round(durationMs),
    model: ctx.requestedModel || undefined,
    provider: ctx.target?.providerId,
    stream: ctx.stream || undefined,
    ttft_ms: ctx.firstTokenAt >= 0 ? round(ctx.firstTokenAt) : undefined,
    input_tokens: ctx.usage.inputTokens || undefined,
    output_tokens: ctx.usage.outputTokens || undefined,
    cost_usd: ctx.costUsd || undefined,
    error_code: error?.code,
    error_class: error?.errorClass,
  };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** USD from reported tokens and the model's prices per million tokens; cached input has its own price. */
export function costOf(ctx: RequestContext): number {
  const pricing = ctx.target?.pricing;
  if (!pricing) return 0;
  const { inputTokens, outputTokens, cachedInputTokens } = ctx.usage;
  return ((inputTokens - cachedInputTokens) * pricing.input + cachedInputTokens * pricing.cachedInput + outputTokens * pricing.output) / 1e6;
}
