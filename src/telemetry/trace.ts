// The tracing port (core/trace.ts) on the OpenTelemetry SDK: a SERVER span per request continuing the
// client's W3C traceparent, a CLIENT span per upstream attempt whose traceparent goes upstream, GenAI
// semantic-convention attributes (gen_ai.provider.name generation, semconv ≥ 1.37) set once at finish.
// Parents are passed explicitly: no global provider, no context manager, no async-hooks cost. With no
// processor nothing would be recorded, so trace-ids.ts carries the ids instead, without the SDK.
import {
  ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace,
  type Attributes, type Span, type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { RequestContext } from '../core/context.ts';
import type { GatewayError } from '../core/errors.ts';
import type { AttemptSpan, RequestSpan, Tracing } from '../core/trace.ts';
import { withDeadline } from './deadline.ts';
import { createIdTracing } from './trace-ids.ts';

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

const propagator = new W3CTraceContextPropagator();

/** Provider kinds whose semconv gen_ai.provider.name is known; other providers report their configured id. */
export function genAiProviderName(id: string, kind: string): string {
  return kind === 'openai' || kind === 'anthropic' ? kind : id;
}

export function createTracing(options: TracingOptions): OtelTracing {
  const processors = options.processors;
  if (processors.length === 0) return { ...createIdTracing(), async shutdown() {} };
  const provider = new TracerProvider({
    resource: options.resource,
    // Parent-based: a client's sampled flag is kept (and passed upstream).
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplingRatio) }),
    spanProcessors: processors,
  });
  const shared: Shared = { tracer: provider.getTracer('vigil', options.version), providerNames: options.providerNames };
  return {
    startRequest(ctx) {
      const parent = propagator.extract(ROOT_CONTEXT, ctx.headers, defaultTextMapGetter);
      const span = shared.tracer.startSpan(`${ctx.method} ${ctx.route}`, {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': ctx.method,
          'http.route': ctx.route,
          'vigil.request_id': ctx.requestId,
        },
      }, parent);
      return new OtelRequestSpan(span, shared);
    },
    async shutdown() {
      // Bounded: a hung collector must not hold the process past the export timeout.
      await withDeadline(provider.shutdown(), (options.shutdownTimeoutMs ?? 1000) + 500, 'OpenTelemetry shutdown').catch(() => undefined);
    },
  };
}

interface Shared {
  tracer: Tracer;
  providerNames: ReadonlyMap<string, string>;
}

class OtelRequestSpan implements RequestSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly #span: Span;
  readonly #shared: Shared;
  #ended = false;

  constructor(span: Span, shared: Shared) {
    const ids = span.spanContext();
    this.traceId = ids.traceId;
    this.spanId = ids.spanId;
    this.#span = span;
    this.#shared = shared;
  }

  startAttempt(ctx: RequestContext, origin: URL): AttemptSpan {
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
    const span = this.#shared.tracer.startSpan(model ? `${ctx.operation} ${model}` : ctx.operation, { kind: SpanKind.CLIENT, attributes },
      trace.setSpan(ROOT_CONTEXT, this.#span));
    const headers: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    return new OtelAttemptSpan(span, headers);
  }

  end(ctx: RequestContext): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (span.isRecording()) span.setAttributes(this.#outcome(ctx));
    const error = ctx.error;
    // HTTP server semantics: only 5xx make a server span an error; caller faults (4xx, 499) do not.
    if (error && ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    span.end();
  }

  #outcome(ctx: RequestContext): Attributes {
    const attributes: Attributes = { 'http.response.status_code': ctx.status };
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

class OtelAttemptSpan implements AttemptSpan {
  readonly headers: Readonly<Record<string, string>>;
  readonly #span: Span;
  #ended = false;

  constructor(span: Span, headers: Record<string, string>) {
    this.#span = span;
    this.headers = headers;
  }

  end(status: number, error?: GatewayError): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (status > 0) span.setAttribute('http.response.status_code', status);
    if (error) {
      span.setAttribute('error.type', error.errorClass);
      span.setAttribute('vigil.error_code', error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    }
    span.end();
  }
}
