// The tracing port (core/trace.ts) with spans exported through OpenTelemetry: a SERVER span per request
// continuing the client's W3C traceparent, a CLIENT span per upstream attempt whose traceparent goes
// upstream, GenAI semantic-convention attributes (gen_ai.provider.name generation, semconv ≥ 1.37).
//
// Spans are not live SDK objects. A request already holds everything a span says (ids from trace-ids.ts,
// times and outcome in the context), so a span object is its own record: when it ends, the OTLP exporter
// encodes it at once (otlp/), its attributes written straight from the request. Live SDK spans, and then the SDK's export pipeline, cost more
// than the gateway's whole proxying work per request (BENCHMARKS.md); what they add (mutable spans,
// events, a context manager) the gateway does not use. The SDK's ratio sampler still decides sampling.
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import type { RequestContext } from '../core/context.ts';
import type { GatewayError } from '../core/errors.ts';
import type { AttemptSpan, RequestSpan, Tracing } from '../core/trace.ts';
import { withDeadline } from './deadline.ts';
import { AttributeKey, type AttributeWriter, type FinishedSpan } from './otlp/encode.ts';
import type { RecordSink } from './otlp/exporter.ts';
import { createIdTracing, parseParent, randomSpanId, randomTraceId, traceparent, type Parent } from './trace-ids.ts';

export interface TracingOptions {
  samplingRatio: number;
  /** Configured provider id → gen_ai.provider.name (the semconv well-known value where one exists). */
  providerNames: ReadonlyMap<string, string>;
  /** Where finished spans go (the OTLP exporter); none: spans carry ids only and record nothing. */
  sink: RecordSink<FinishedSpan> | undefined;
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
  const sink = options.sink;
  if (!sink) return { ...createIdTracing(), async shutdown() {} };
  const sampleNew = newTraceSampler(options.samplingRatio);
  const shared: Shared = { providerNames: options.providerNames, sink };
  return {
    startRequest(ctx) {
      const parent = parseParent(ctx.headers.traceparent, ctx.headers.tracestate);
      // Parent-based: a client's sampled flag decides (and is passed upstream); a new trace is sampled by ratio.
      const traceId = parent?.traceId ?? randomTraceId();
      const sampled = parent ? parent.sampled : sampleNew(traceId);
      return new RecordedRequestSpan(shared, traceId, sampled, parent);
    },
    async shutdown() {
      // Bounded: a hung collector must not hold the process past the export timeout.
      await withDeadline(sink.shutdown(), (options.shutdownTimeoutMs ?? 1000) + 500, 'OpenTelemetry shutdown').catch(() => undefined);
    },
  };
}

/**
 * Whether a new trace is sampled. The SDK's ratio sampler decides between the two ends; at them (1, the
 * default, and 0) the answer is fixed, and asking the sampler anyway (it checks the id with a regular
 * expression and builds a result object) took 1.3 µs a request in a perf profile of the gateway under load.
 */
function newTraceSampler(ratio: number): (traceId: string) => boolean {
  if (ratio >= 1) return () => true;
  if (ratio <= 0) return () => false;
  const sampler = new TraceIdRatioBasedSampler(ratio);
  return (traceId) => sampler.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
}

interface Shared {
  providerNames: ReadonlyMap<string, string>;
  sink: RecordSink<FinishedSpan>;
}

/** performance.now() → milliseconds since the epoch. */
const epochMs = (now: number) => performance.timeOrigin + now;

/** The attribute keys spans carry, encoded once. */
const key = (name: string) => new AttributeKey(name);
const K = {
  method: key('http.request.method'),
  route: key('http.route'),
  status: key('http.response.status_code'),
  requestId: key('vigil.request_id'),
  serverAddress: key('server.address'),
  serverPort: key('server.port'),
  operation: key('gen_ai.operation.name'),
  provider: key('gen_ai.provider.name'),
  requestModel: key('gen_ai.request.model'),
  responseModel: key('gen_ai.response.model'),
  inputTokens: key('gen_ai.usage.input_tokens'),
  outputTokens: key('gen_ai.usage.output_tokens'),
  cacheReadTokens: key('gen_ai.usage.cache_read.input_tokens'),
  finishReasons: key('gen_ai.response.finish_reasons'),
  stream: key('gen_ai.request.stream'),
  timeToFirstChunk: key('gen_ai.response.time_to_first_chunk'),
  errorType: key('error.type'),
  errorCode: key('vigil.error_code'),
};

/**
 * The SERVER span of a request, and its own OTLP record: what it says is read from the context when it
 * ends (end → the sink encodes it at once, through writeAttributes), so nothing is copied per request.
 */
class RecordedRequestSpan implements RequestSpan, FinishedSpan {
  readonly kind = 'server';
  readonly traceId: string;
  readonly spanId = randomSpanId();
  readonly parentSpanId: string | undefined;
  readonly parentIsRemote = true;
  readonly traceState: string | undefined;
  readonly shared: Shared;
  readonly sampled: boolean;
  name = '';
  startMs = 0;
  endMs = 0;
  error: string | undefined = undefined;
  /** The request, while it is encoded; unset again after, so an ended span holds no request. */
  #ctx: RequestContext | undefined = undefined;
  #ended = false;

  constructor(shared: Shared, traceId: string, sampled: boolean, parent: Parent | undefined) {
    this.shared = shared;
    this.traceId = traceId;
    this.sampled = sampled;
    this.traceState = parent?.tracestate;
    this.parentSpanId = parent?.spanId;
  }

  startAttempt(ctx: RequestContext, origin: URL): AttemptSpan {
    const spanId = randomSpanId();
    const parent = traceparent(this.traceId, spanId, this.sampled ? '01' : '00');
    if (!this.sampled) return { traceparent: parent, tracestate: this.traceState, end() {} };
    return new RecordedAttemptSpan(this, ctx, origin, spanId, parent);
  }

  end(ctx: RequestContext): void {
    if (this.#ended || !this.sampled) return;
    this.#ended = true;
    this.name = `${ctx.method} ${ctx.route}`;
    this.startMs = epochMs(ctx.startedAt);
    this.endMs = epochMs(performance.now());
    // HTTP server semantics: only 5xx make a server span an error; caller faults (4xx, 499) do not.
    this.error = ctx.status >= 500 && ctx.error ? ctx.error.code : undefined;
    this.#ctx = ctx;
    this.shared.sink.add(this); // encodes it there and then
    this.#ctx = undefined;
  }

  writeAttributes(a: AttributeWriter): void {
    const ctx = this.#ctx!;
    a.string(K.method, ctx.method).string(K.route, ctx.route).string(K.requestId, ctx.requestId).int(K.status, ctx.status);
    // GenAI attributes only when the client asked a model for something (not /v1/models, not a 404).
    if (ctx.requestedModel) a.string(K.operation, ctx.operation).string(K.requestModel, ctx.requestedModel);
    const target = ctx.target;
    if (target) a.string(K.provider, this.shared.providerNames.get(target.providerId) ?? target.providerId);
    const answered = target !== undefined && ctx.upstreamStartedAt >= 0 && ctx.upstreamStatus > 0 && ctx.upstreamStatus < 400;
    // The provider's own model string is not kept; the configured upstream model is what answered.
    if (answered) a.string(K.responseModel, target.upstreamModel);
    const usage = ctx.usage;
    if (answered || usage.inputTokens || usage.outputTokens) a.int(K.inputTokens, usage.inputTokens).int(K.outputTokens, usage.outputTokens);
    if (usage.cachedInputTokens) a.int(K.cacheReadTokens, usage.cachedInputTokens);
    if (ctx.finishReason) a.strings(K.finishReasons, [ctx.finishReason]);
    if (ctx.stream) a.bool(K.stream, true);
    if (ctx.firstTokenAt >= 0) a.double(K.timeToFirstChunk, ctx.firstTokenAt / 1000);
    if (ctx.error) a.string(K.errorType, ctx.error.errorClass).string(K.errorCode, ctx.error.code);
  }
}

/** The CLIENT span of one upstream attempt (child of the request span), its own OTLP record like it. */
class RecordedAttemptSpan implements AttemptSpan, FinishedSpan {
  readonly kind = 'client';
  readonly parentIsRemote = false;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly traceState: string | undefined;
  readonly traceparent: string;
  readonly name: string;
  readonly startMs = epochMs(performance.now());
  endMs = 0;
  error: string | undefined = undefined;
  readonly #shared: Shared;
  readonly #operation: string;
  readonly #target: RequestContext['target'];
  readonly #host: string;
  readonly #port: number;
  #status = 0;
  #errorClass: string | undefined = undefined;
  #ended = false;

  constructor(request: RecordedRequestSpan, ctx: RequestContext, origin: URL, spanId: string, traceparent: string) {
    this.#shared = request.shared;
    this.traceId = request.traceId;
    this.spanId = spanId;
    this.parentSpanId = request.spanId;
    this.traceState = request.traceState;
    this.traceparent = traceparent;
    this.#operation = ctx.operation;
    this.#target = ctx.target;
    const model = ctx.target?.upstreamModel;
    this.name = model ? `${ctx.operation} ${model}` : ctx.operation;
    this.#host = origin.hostname;
    this.#port = Number(origin.port) || (origin.protocol === 'https:' ? 443 : 80);
  }

  /** The W3C tracestate that goes upstream with traceparent: the client's, unchanged. */
  get tracestate(): string | undefined {
    return this.traceState;
  }

  end(status: number, error?: GatewayError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.endMs = epochMs(performance.now());
    this.#status = status;
    this.#errorClass = error?.errorClass;
    this.error = error?.code;
    this.#shared.sink.add(this);
  }

  writeAttributes(a: AttributeWriter): void {
    const target = this.#target;
    a.string(K.operation, this.#operation).string(K.serverAddress, this.#host).int(K.serverPort, this.#port).string(K.method, 'POST');
    if (target) a.string(K.provider, this.#shared.providerNames.get(target.providerId) ?? target.providerId);
    if (target?.upstreamModel) a.string(K.requestModel, target.upstreamModel);
    if (this.#status > 0) a.int(K.status, this.#status);
    if (this.error !== undefined) a.string(K.errorType, this.#errorClass!).string(K.errorCode, this.error);
  }
}
