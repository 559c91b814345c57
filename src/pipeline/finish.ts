// Finish: runs once per request, also after errors, client aborts and failures before the pipeline
// (server/app.ts). It settles the outcome from the context, then runs a list of finishers composed once at
// start-up (settling limits and budgets, metrics, GenAI OTLP metrics, the log line, the span, the usage record), each reading the
// request and its attempts: the request is counted, logged and billed once, every attempt counted and traced.
import type { Attempt } from '../core/attempt.ts';
import { isoNow } from '../core/clock.ts';
import type { RequestContext } from '../core/context.ts';
import { settleAdmission } from '../policy/settle.ts';
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
/** One thing done with a finished request; `durationMs` is its whole time, from accept. */
export type Finisher = (ctx: RequestContext, durationMs: number) => void;

/** Settlement of limits and budgets, metrics (drains among them), GenAI metrics (when on), log line, span, usage record: in this order. */
export function createFinishers({ recorder, ledger, log, genAiMetrics }: FinishDeps): Finisher[] {
  const finishers: Finisher[] = [settleAdmission, (ctx, durationMs) => recorder.requestFinished(ctx, durationMs / 1000), drained(recorder)];
  if (genAiMetrics) finishers.push((ctx, durationMs) => genAiMetrics.record(ctx, durationMs / 1000));
  finishers.push(logLine(log), endSpan, usageRecord(ledger));
  return finishers;
}

export function createFinish(deps: FinishDeps): Finish {
  return composeFinish(createFinishers(deps));
}

/** One Finish running `finishers` in order, after the outcome is settled. */
export function composeFinish(finishers: readonly Finisher[]): Finish {
  return (ctx) => {
    const durationMs = performance.now() - ctx.startedAt;
    settle(ctx);
    for (let i = 0; i < finishers.length; i++) finishers[i](ctx, durationMs);
  };
}

/** What every finisher reads: the final status, the last attempt's outcome, each attempt's spend. */
function settle(ctx: RequestContext): void {
  const error = ctx.error;
  // Cut mid-answer, by the client (499) or by the drain timeout (503): the status says so even after a
  // stream's 200 went out, so availability counts the gateway's cuts and not the client's.
  if (error && (error.errorClass === 'client_abort' || error.code === 'GW_UNAVAILABLE_DRAINING')) ctx.status = error.status;
  const last = ctx.attempt;
  if (!last) return;
  // A stream fails, or is cut, after dispatch has returned: the request's error is its last attempt's outcome.
  if (error) last.error = error;
  for (const attempt of ctx.attempts) attempt.costUsd = costOf(attempt);
  ctx.costUsd = last.costUsd;
}

/**
 * A stream read on after its client left (core/drain.ts) is counted by how its drain ended. The pipeline ran
 * to the drain's end before finishing; ending it here too only covers an upstream that failed as the client
 * left, before any chunk was read on.
 */
function drained(recorder: Recorder): Finisher {
  return (ctx) => {
    const drain = ctx.drain;
    if (drain === undefined) return;
    drain.end();
    recorder.streamDrained(drain.result!);
  };
}

const endSpan: Finisher = (ctx) => ctx.span?.end(ctx); // GenAI and HTTP attributes from the context, then the span ends

function logLine(log: RequestLines): Finisher {
  return (ctx, durationMs) => {
    const error = ctx.error;
    if (error !== undefined && error.status >= 500) log.warn({ ...requestLine(ctx, durationMs), err: error.cause ?? error }, 'request failed');
    else if (log.infoEnabled) log.info(requestLine(ctx, durationMs), 'request'); // not even built when off
  };
}

/**
 * One record per request that reached an upstream, billed with its last attempt: the one that answered (a
 * stream whose client left, with the usage its drain read on to, marked partial when a cap cut it); and
 * one per answer from the response cache, marked cached, with the cached answer's deployment and tokens and
 * no cost (nothing was called: ctx.costUsd stays 0 without an attempt).
 */
function usageRecord(ledger: UsageLedger): Finisher {
  return (ctx, durationMs) => {
    const hit = ctx.cacheHit;
    const billed = hit ?? ctx.attempt;
    if (!billed || (hit === undefined && !ctx.attempt!.started)) return;
    const { target, usage } = billed;
    ledger.append({
      time: isoNow(),
      requestId: ctx.requestId,
      identityId: ctx.principal.id,
      userId: ctx.principal.user ?? '',
      teamId: ctx.principal.team ?? '',
      route: ctx.route,
      provider: target.providerId,
      model: target.name,
      upstreamModel: target.upstreamModel,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cachedInputTokens: usage.cachedInputTokens,
      costUsd: ctx.costUsd,
      durationMs: round(durationMs),
      status: ctx.status,
      errorClass: ctx.error?.errorClass ?? '',
      stream: ctx.stream,
      cached: hit !== undefined,
      partial: ctx.drain?.result === 'capped',
    });
  };
}

/** The request's log line: an allowlist of the context's fields (the model is the one value a client wrote). */
function requestLine(ctx: RequestContext, durationMs: number): Record<string, unknown> {
  const error = ctx.error;
  const last = ctx.attempt;
  const hit = ctx.cacheHit;
  const usage = (last ?? hit)?.usage;
  return {
    request_id: ctx.requestId,
    trace_id: ctx.span?.traceId,
    span_id: ctx.span?.spanId,
    identity_id: ctx.principal.id,
    method: ctx.method,
    route: ctx.route,
    status: ctx.status,
    duration_ms: round(durationMs),
    model: ctx.requestedModel || undefined,
    provider: (last ?? hit)?.target.providerId ?? ctx.target?.providerId,
    cache: hit && 'hit',
    drain: ctx.drain?.result,
    attempts: ctx.attempts.length > 1 ? ctx.attempts.length : undefined,
    stream: ctx.stream || undefined,
    ttft_ms: last && last.firstTokenAt >= 0 ? round(last.firstTokenAt) : undefined,
    input_tokens: usage?.inputTokens || undefined,
    output_tokens: usage?.outputTokens || undefined,
    cost_usd: ctx.costUsd || undefined,
    error_code: error?.code,
    error_class: error?.errorClass,
  };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * USD from the attempt's reported tokens and its target's prices per million tokens: input read from and
 * written to the prompt cache (both part of inputTokens) have their own prices.
 */
export function costOf(attempt: Attempt): number {
  const pricing = attempt.target.pricing;
  if (!pricing) return 0;
  const { inputTokens, outputTokens, cachedInputTokens } = attempt.usage;
  const written = attempt.usage.cacheWriteTokens ?? 0;
  const plain = inputTokens - cachedInputTokens - written;
  return (plain * pricing.input + cachedInputTokens * pricing.cachedInput + written * pricing.cacheWrite + outputTokens * pricing.output) / 1e6;
}
