// The tracing port: what the server, pipeline and routing need from tracing, in plain types, so core keeps
// no library and no I/O. telemetry/trace.ts implements it with OpenTelemetry. With tracing off there is no
// Tracing at all and `ctx.span` stays undefined: no span objects, no context work on the hot path.
import type { Attempt } from './attempt.ts';
import type { RequestContext } from './context.ts';
import type { GatewayError } from './errors.ts';

/** One upstream attempt (a CLIENT span, child of the request span). */
export interface AttemptSpan {
  /** The W3C `traceparent` that goes upstream, naming this attempt as the parent. */
  readonly traceparent: string;
  /** The client's `tracestate`, passed upstream unchanged; undefined when it sent none. */
  readonly tracestate: string | undefined;
  /** The attempt is over: the body was read, or it failed. Only the first call counts. */
  end(status: number, error?: GatewayError): void;
}

/** The server span of one request. */
export interface RequestSpan {
  /** 32 / 16 lowercase hex characters, as in a traceparent. */
  readonly traceId: string;
  readonly spanId: string;
  /** Started by the transport as `attempt` goes out to `origin`; the attempt keeps it (`attempt.span`). */
  startAttempt(ctx: RequestContext, attempt: Attempt, origin: URL): AttemptSpan;
  /** Records the outcome from the context (status, model, usage, finish reason, error) and ends the span; once. */
  end(ctx: RequestContext): void;
}

export interface Tracing {
  /** Starts the request span at accept, continuing the client's `traceparent` when it is valid. */
  startRequest(ctx: RequestContext): RequestSpan;
}
