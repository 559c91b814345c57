// The tracing port (core/trace.ts) with spans exported through OpenTelemetry: a SERVER span per request
// continuing the client's W3C traceparent, a CLIENT span per upstream attempt whose traceparent goes
// upstream, GenAI semantic-convention attributes (gen_ai.provider.name generation, semconv ≥ 1.37).
//
// Spans are not live SDK objects. A request already holds everything a span says (ids from trace-ids.ts,
// times and outcome in the context), so each span is written once, when it ends, as the SDK's own
// finished-span shape (ReadableSpan) and handed to the SDK's span processors, which batch, drop, count,
// serialise and export it as for any span. Live SDK spans (attribute checks, per-span contexts, span
// metrics) cost ~100k instructions per request, a sixth of the gateway's whole work (BENCHMARKS.md); what
// they add (mutable spans, events, a context manager) the gateway does not use. The SDK's ratio sampler
// still makes the sampling decision.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import { TraceState, hrTime, hrTimeDuration } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { SamplingDecision, TraceIdRatioBasedSampler, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { RequestContext } from '../core/context.ts';
import type { GatewayError } from '../core/errors.ts';
import type { AttemptSpan, RequestSpan, Tracing } from '../core/trace.ts';
import { withDeadline } from './deadline.ts';
import { createIdTracing, parseParent, randomSpanId, randomTraceId, traceHeaders, type Parent } from './trace-ids.ts';

export interface TracingOptions {
  resource: Resource;
  version: string;
  samplingRatio: number;
  /** Configured provider id → gen_ai.provider.name (the semconv well-known value where one exists). */
  providerNames: ReadonlyMap<string, string>;
  /** Where finished spans go (the OTLP batch processor); none: spans carry ids only and record nothing. */
  processors: SpanProcessor[];
  /** Upper bound on the final flush at shutdown. */
  shutdownTimeoutMs?: number;
}

export interface OtelTracing extends Tracing {
  /** Exports what is queued and stops; bounded by the export timeout. */
  shutdown(): Promise<void>;
}

/** Provider kinds whose semconv gen_ai.provider.name is known; other providers report their configured id. */
export function genAiProviderName(id: string, kind: string): string {
  return kind === 'openai' || kind === 'anthropic' ? kind : id;
}

export function createTracing(options: TracingOptions): OtelTracing {
  const processors = options.processors;
  if (processors.length === 0) return { ...createIdTracing(), async shutdown() {} };
  const ratio = new TraceIdRatioBasedSampler(options.samplingRatio);
  const shared: Shared = {
    providerNames: options.providerNames,
    resource: options.resource,
    scope: { name: 'vigil', version: options.version },
    export: (span) => { for (const processor of processors) processor.onEnd(span); },
  };
  return {
    startRequest(ctx) {
      const parent = parseParent(ctx.headers.traceparent, ctx.headers.tracestate);
      // Parent-based: a client's sampled flag decides (and is passed upstream); a new trace is sampled by ratio.
      const traceId = parent?.traceId ?? randomTraceId();
      const sampled = parent ? parent.sampled
        : ratio.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
      return new RecordedRequestSpan(shared, ctx.startedAt, traceId, sampled, parent);
    },
    async shutdown() {
      // Bounded: a hung collector must not hold the process past the export timeout.
      const done = Promise.all(processors.map((processor) => processor.shutdown()));
      await withDeadline(done, (options.shutdownTimeoutMs ?? 1000) + 500, 'OpenTelemetry shutdown').catch(() => undefined);
    },
  };
}

interface Shared {
  providerNames: ReadonlyMap<string, string>;
  resource: Resource;
  scope: { name: string; version: string };
  export(span: ReadableSpan): void;
}

class RecordedRequestSpan implements RequestSpan {
  readonly traceId: string;
  readonly spanId = randomSpanId();
  readonly #shared: Shared;
  readonly #startedAt: number;
  readonly #sampled: boolean;
  readonly #parent: SpanContext | undefined;
  readonly #tracestate: string | undefined;
  readonly #traceState: TraceState | undefined;
  #ended = false;

  constructor(shared: Shared, startedAt: number, traceId: string, sampled: boolean, parent: Parent | undefined) {
    this.#shared = shared;
    this.#startedAt = startedAt;
    this.traceId = traceId;
    this.#sampled = sampled;
    this.#tracestate = parent?.tracestate;
    this.#traceState = parent?.tracestate ? new TraceState(parent.tracestate) : undefined;
    this.#parent = parent && { traceId, spanId: parent.spanId, traceFlags: this.#flags(), isRemote: true, traceState: this.#traceState };
  }

  #flags(): TraceFlags {
    return this.#sampled ? TraceFlags.SAMPLED : TraceFlags.NONE;
  }

  startAttempt(ctx: RequestContext, origin: URL): AttemptSpan {
    const spanId = randomSpanId();
    const headers = traceHeaders(this.traceId, spanId, this.#sampled ? '01' : '00', this.#tracestate);
    if (!this.#sampled) return { headers, end() {} };
    const startedAt = performance.now();
    const target = ctx.target;
    const model = target?.upstreamModel;
    const attributes: Attributes = {
      'gen_ai.operation.name': ctx.operation,
      'server.address': origin.hostname,
      'server.port': Number(origin.port) || (origin.protocol === 'https:' ? 443 : 80),
      'http.request.method': 'POST',
    };
    if (target) attributes['gen_ai.provider.name'] = this.#shared.providerNames.get(target.providerId) ?? target.providerId;
    if (model) attributes['gen_ai.request.model'] = model;
    const name = model ? `${ctx.operation} ${model}` : ctx.operation;
    const parent = this.#context(this.spanId);
    let ended = false;
    return {
      headers,
      end: (status, error) => {
        if (ended) return;
        ended = true;
        if (status > 0) attributes['http.response.status_code'] = status;
        if (error) {
          attributes['error.type'] = error.errorClass;
          attributes['vigil.error_code'] = error.code;
        }
        this.#shared.export(this.#finished(name, SpanKind.CLIENT, this.#context(spanId), parent, startedAt, attributes, statusOf(error)));
      },
    };
  }

  end(ctx: RequestContext): void {
    if (this.#ended || !this.#sampled) return;
    this.#ended = true;
    // HTTP server semantics: only 5xx make a server span an error; caller faults (4xx, 499) do not.
    const status = ctx.status >= 500 ? statusOf(ctx.error) : UNSET;
    this.#shared.export(this.#finished(`${ctx.method} ${ctx.route}`, SpanKind.SERVER, this.#context(this.spanId), this.#parent, this.#startedAt, this.#attributes(ctx), status));
  }

  #context(spanId: string): SpanContext {
    return { traceId: this.traceId, spanId, traceFlags: this.#flags(), traceState: this.#traceState };
  }

  #finished(name: string, kind: SpanKind, context: SpanContext, parent: SpanContext | undefined, startedAt: number, attributes: Attributes, status: SpanStatus): ReadableSpan {
    const startTime = hrTime(startedAt);
    const endTime = hrTime(performance.now());
    return {
      name, kind, spanContext: () => context, parentSpanContext: parent, startTime, endTime, duration: hrTimeDuration(startTime, endTime),
      status, attributes, links: [], events: [], ended: true, resource: this.#shared.resource, instrumentationScope: this.#shared.scope,
      droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
    };
  }

  #attributes(ctx: RequestContext): Attributes {
    const attributes: Attributes = {
      'http.request.method': ctx.method,
      'http.route': ctx.route,
      'vigil.request_id': ctx.requestId,
      'http.response.status_code': ctx.status,
    };
    // GenAI attributes only when the client asked a model for something (not /v1/models, not a 404).
    if (ctx.requestedModel) {
      attributes['gen_ai.operation.name'] = ctx.operation;
      attributes['gen_ai.request.model'] = ctx.requestedModel;
    }
    const target = ctx.target;
    if (target) attributes['gen_ai.provider.name'] = this.#shared.providerNames.get(target.providerId) ?? target.providerId;
    const answered = target !== undefined && ctx.upstreamStartedAt >= 0 && ctx.upstreamStatus > 0 && ctx.upstreamStatus < 400;
    // The provider's own model string is not kept; the configured upstream model is what answered.
    if (answered) attributes['gen_ai.response.model'] = target.upstreamModel;
    const usage = ctx.usage;
    if (answered || usage.inputTokens || usage.outputTokens) {
      attributes['gen_ai.usage.input_tokens'] = usage.inputTokens;
      attributes['gen_ai.usage.output_tokens'] = usage.outputTokens;
    }
    if (usage.cachedInputTokens) attributes['gen_ai.usage.cache_read.input_tokens'] = usage.cachedInputTokens;
    if (ctx.finishReason) attributes['gen_ai.response.finish_reasons'] = [ctx.finishReason];
    if (ctx.stream) attributes['gen_ai.request.stream'] = true;
    if (ctx.firstTokenAt >= 0) attributes['gen_ai.response.time_to_first_chunk'] = ctx.firstTokenAt / 1000;
    if (ctx.error) {
      attributes['error.type'] = ctx.error.errorClass;
      attributes['vigil.error_code'] = ctx.error.code;
    }
    return attributes;
  }
}

const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };
const statusOf = (error: GatewayError | undefined): SpanStatus => (error ? { code: SpanStatusCode.ERROR, message: error.code } : UNSET);
