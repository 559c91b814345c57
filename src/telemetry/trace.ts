// The tracing port (core/trace.ts) with spans exported through OpenTelemetry: a SERVER span per request
// continuing the client's W3C traceparent, a CLIENT span per upstream attempt whose traceparent goes
// upstream, GenAI semantic-convention attributes (gen_ai.provider.name generation, semconv ≥ 1.37).
//
// Spans are not live SDK objects. A request already holds everything a span says (ids from trace-ids.ts,
// times and outcome in the context), so each span is written once, when it ends, as a plain record that
// the OTLP exporter encodes at once (export/). Live SDK spans, and then the SDK's export pipeline, cost more
// than the gateway's whole proxying work per request (BENCHMARKS.md); what they add (mutable spans,
// events, a context manager) the gateway does not use. The SDK's ratio sampler still decides sampling.
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import type { Attempt } from '../core/attempt.ts';
import type { RequestContext } from '../core/context.ts';
import type { AttemptSpan, RequestSpan, Tracing } from '../core/trace.ts';
import { withDeadline } from './deadline.ts';
import type { Attributes, SpanRecord } from './export/encode.ts';
import type { RecordSink } from './export/records.ts';
import { createIdTracing, parseParent, randomSpanId, randomTraceId, traceparent, type Parent } from './trace-ids.ts';

export interface TracingOptions {
  samplingRatio: number;
  /** Configured provider id → gen_ai.provider.name (the semconv well-known value where one exists). */
  providerNames: ReadonlyMap<string, string>;
  /** Where finished spans go (the OTLP exporter); none: spans carry ids only and record nothing. */
  sink: RecordSink<SpanRecord> | undefined;
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
      return new RecordedRequestSpan(shared, ctx.startedAt, traceId, sampled, parent);
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
  sink: RecordSink<SpanRecord>;
}

/**
 * "<method> <route>" and "<operation> <model>", made once per pair: both parts come from fixed sets (routes,
 * methods, operations, configured models), and a string made per span is one more to flatten and hash
 * when its encoding is looked up (export/encode.ts).
 */
const spanNames = new Map<string, Map<string, string>>();

function spanName(first: string, second: string): string {
  let seconds = spanNames.get(first);
  if (seconds === undefined) {
    seconds = new Map();
    spanNames.set(first, seconds);
  }
  let name = seconds.get(second);
  if (name === undefined) {
    name = `${first} ${second}`;
    seconds.set(second, name);
  }
  return name;
}

/** performance.now() → milliseconds since the epoch. */
const epochMs = (now: number) => performance.timeOrigin + now;

class RecordedRequestSpan implements RequestSpan {
  readonly traceId: string;
  readonly spanId = randomSpanId();
  readonly #shared: Shared;
  readonly #startedAt: number;
  readonly #sampled: boolean;
  readonly #parentSpanId: string | undefined;
  readonly #tracestate: string | undefined;
  #ended = false;
  /** Attempts that ended before the request did (see startAttempt). */
  #attempts: SpanRecord[] | undefined = undefined;

  constructor(shared: Shared, startedAt: number, traceId: string, sampled: boolean, parent: Parent | undefined) {
    this.#shared = shared;
    this.#startedAt = startedAt;
    this.traceId = traceId;
    this.#sampled = sampled;
    this.#tracestate = parent?.tracestate;
    this.#parentSpanId = parent?.spanId;
  }

  startAttempt(ctx: RequestContext, attempt: Attempt, origin: URL): AttemptSpan {
    const spanId = randomSpanId();
    const parent = traceparent(this.traceId, spanId, this.#sampled ? '01' : '00');
    const tracestate = this.#tracestate;
    if (!this.#sampled) return { traceparent: parent, tracestate, end() {} };
    const startedAt = performance.now();
    const target = attempt.target;
    const model = target.upstreamModel;
    const attributes: Attributes = {
      'gen_ai.operation.name': ctx.operation,
      'server.address': origin.hostname,
      'server.port': Number(origin.port) || (origin.protocol === 'https:' ? 443 : 80),
      'http.request.method': 'POST',
      'gen_ai.provider.name': this.#shared.providerNames.get(target.providerId) ?? target.providerId,
      // The routing decision: which try this is, and which deployment of the alias the strategy chose.
      'vigil.attempt': ctx.attempts.length,
      'vigil.deployment': target.deploymentId,
    };
    if (ctx.alias) attributes['vigil.routing.strategy'] = ctx.alias.strategy;
    if (model) attributes['gen_ai.request.model'] = model;
    const name = model ? spanName(ctx.operation, model) : ctx.operation;
    let ended = false;
    return {
      traceparent: parent,
      tracestate,
      end: (status, error) => {
        if (ended) return;
        ended = true;
        if (status > 0) attributes['http.response.status_code'] = status;
        if (error) {
          attributes['error.type'] = error.errorClass;
          attributes['vigil.error_code'] = error.code;
        }
        const record = this.#record(name, 'client', spanId, this.spanId, false, startedAt, attributes, error?.code);
        // Held until the request span ends, to be encoded right after the request's log record and before
        // its span: the encoder, just run, takes about a third of the time it takes cold (BENCHMARKS.md).
        if (this.#ended) this.#shared.sink.add(record);
        else {
          this.#attempts ??= [];
          this.#attempts.push(record);
        }
      },
    };
  }

  end(ctx: RequestContext): void {
    if (this.#ended || !this.#sampled) return;
    this.#ended = true;
    // HTTP server semantics: only 5xx make a server span an error; caller faults (4xx, 499) do not.
    const error = ctx.status >= 500 && ctx.error ? ctx.error.code : undefined;
    const sink = this.#shared.sink;
    if (this.#attempts) for (const attempt of this.#attempts) sink.add(attempt);
    this.#attempts = undefined;
    sink.add(this.#record(spanName(ctx.method, ctx.route), 'server', this.spanId, this.#parentSpanId, true, this.#startedAt, this.#attributes(ctx), error));
  }

  #record(name: string, kind: SpanRecord['kind'], spanId: string, parentSpanId: string | undefined, parentIsRemote: boolean, startedAt: number, attributes: Attributes, error: string | undefined): SpanRecord {
    return {
      traceId: this.traceId, spanId, parentSpanId, parentIsRemote, traceState: this.#tracestate, name, kind,
      startMs: epochMs(startedAt), endMs: epochMs(performance.now()), attributes, error,
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
    // The answer is the last attempt's (each attempt has its own CLIENT span).
    const last = ctx.attempt;
    const target = last?.target ?? ctx.target;
    if (target) attributes['gen_ai.provider.name'] = this.#shared.providerNames.get(target.providerId) ?? target.providerId;
    if (last) {
      const answered = last.started && last.status > 0 && last.status < 400;
      // The provider's own model string is not kept; the configured upstream model is what answered.
      if (answered) attributes['gen_ai.response.model'] = last.target.upstreamModel;
      const usage = last.usage;
      if (answered || usage.inputTokens || usage.outputTokens) {
        attributes['gen_ai.usage.input_tokens'] = usage.inputTokens;
        attributes['gen_ai.usage.output_tokens'] = usage.outputTokens;
      }
      if (usage.cachedInputTokens) attributes['gen_ai.usage.cache_read.input_tokens'] = usage.cachedInputTokens;
    }
    if (ctx.finishReason) attributes['gen_ai.response.finish_reasons'] = [ctx.finishReason];
    if (ctx.stream) attributes['gen_ai.request.stream'] = true;
    if (last && last.firstTokenAt >= 0) attributes['gen_ai.response.time_to_first_chunk'] = last.firstTokenAt / 1000;
    if (ctx.error) {
      attributes['error.type'] = ctx.error.errorClass;
      attributes['vigil.error_code'] = ctx.error.code;
    }
    return attributes;
  }
}

