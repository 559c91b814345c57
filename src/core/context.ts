// Per-request state with a fixed shape: every field exists from the constructor on, so the hot path
// never grows hidden classes, and `finish` can read one object (and its attempts) to record metrics, the
// log line and usage.
import type { Alias } from './alias.ts';
import { Attempt } from './attempt.ts';
import type { ChatOutput, ChatRequest, ChatResult, Dialect, EmbeddingsOutput, Operation, Usage } from './canonical.ts';
import type { Drain, Drains } from './drain.ts';
import { GatewayError, type ErrorClass } from './errors.ts';
import { ANONYMOUS, type Principal } from './principal.ts';
import type { RequestSpan } from './trace.ts';

/** The client connection as the pipeline sees it; implemented by server/, so no other folder knows HTTP. */
export interface ReplyPort {
  /** Send a whole JSON body (already serialised). */
  json(status: number, body: string | Buffer, headers?: Record<string, string>): void;
  /** Open an SSE response; then write events; `write` resolves when the client can take more. */
  startStream(headers?: Record<string, string>): void;
  write(chunk: string | Buffer): Promise<void> | void;
  /** Open a response of any status and type, then `write` and `end` (the raw passthrough's relay); absent: not over HTTP. */
  open?(status: number, headers: Record<string, string>): void;
  end(): void;
  /** Report a failure: an error response, or an in-stream error event once the stream has started. */
  fail(error: GatewayError): void;
  /** Headers for the response not yet sent, whatever its status (a limited key's x-ratelimit-*); absent: none can be added. */
  addHeaders?(headers: Record<string, string>): void;
  readonly started: boolean;
}

/** A configured model as the pipeline needs it once compiled (see config/compile.ts). */
export interface ModelTarget {
  /** The public model name (the alias) the client asked for. */
  name: string;
  upstreamModel: string;
  providerId: string;
  /** Names the deployment (an upstream behind the alias) in metrics, logs and readiness: core/alias.ts. */
  deploymentId: string;
  type: 'chat' | 'embedding';
  /** USD per million tokens: the config's override over the built-in catalog; undefined when neither prices it. */
  pricing?: ModelPricing;
}

export interface ModelPricing {
  input: number;
  output: number;
  /** Input tokens read from the provider's prompt cache. */
  cachedInput: number;
  /** Input tokens written to the provider's prompt cache (Anthropic). */
  cacheWrite: number;
}

/** What admission set aside for a request (policy/admit.ts): settled with the real usage, once, at finish. */
export interface Settlement {
  settle(ctx: RequestContext): void;
}

/** Something a request holds until it finishes, released once when its stages are done (routing's hold on a streaming deployment). */
export interface Held {
  release(ctx: RequestContext): void;
}

/** Shared by every request without path or query parameters: no allocation for them. */
const NONE: Readonly<Record<string, string>> = Object.freeze({});

export class RequestContext {
  readonly requestId: string;
  /** performance.now() at accept, for durations; wall-clock time is taken once at finish. */
  readonly startedAt: number;
  readonly route: string;
  readonly method: string;
  readonly dialect: Dialect;
  readonly operation: Operation;
  readonly reply: ReplyPort;
  /** Incoming W3C traceparent / headers needed later; never forwarded wholesale. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The client's IP address as the socket saw it ('' when unknown): the brute-force guard and address limits key on it. */
  readonly clientAddress: string;

  /** Parsed client JSON body. */
  body: Record<string, any> = {};
  /** Path parameters of routes whose pattern has any (also in `body` for routes without a body). */
  params: Readonly<Record<string, string>> = NONE;
  /** The query string's parameters (the admin API's filters); empty when the URL has none. */
  query: Readonly<Record<string, string>> = NONE;
  /** The body's bytes as the client sent them (see providers/shared/passthrough-body.ts). */
  rawBody: Buffer | undefined = undefined;
  /** The canonical request, decoded only when the provider does not speak the client's dialect. */
  chat: ChatRequest | undefined = undefined;
  /** What the provider answered; the encode stage writes it to the client. */
  output: ChatOutput | EmbeddingsOutput | undefined = undefined;
  /** Who the request acts for; authenticate replaces the shared anonymous one when keys are configured. */
  principal: Principal = ANONYMOUS;
  /** The `model` the client asked for, and the configured target it resolved to. */
  requestedModel = '';
  target: ModelTarget | undefined = undefined;
  /** The alias `requestedModel` names (routing/plan.ts); `target` is its first deployment until an attempt picks one. */
  alias: Alias | undefined = undefined;
  /** Released by the pipeline once the stages are done (a stream's deployment stays in flight until then). */
  held: Held | undefined = undefined;
  /** Every upstream attempt, in order (routing/dispatch.ts starts them); `attempt` is the last, the current one. */
  readonly attempts: Attempt[] = [];
  attempt: Attempt | undefined = undefined;
  stream = false;
  /** The client asked for a usage chunk on its stream. */
  streamUsage = false;

  /** When the SSE response to the client opened (ms after accept); -1 for plain responses. */
  streamStartedAt = -1;
  /** The answer the client got: its finish reason and the names of the tools it asked to call, in order. */
  finishReason = '';
  toolCalls: string[] = [];
  /** What the request is billed: the spend of its last attempt, set at finish. */
  costUsd = 0;
  /** Rate-limit and budget reservations held for this request; undefined when none (no limits, or an open gateway). */
  admission: Settlement | undefined = undefined;
  /** Answered from the response cache (pipeline/response-cache.ts), with no attempt: who first answered, and its usage. */
  cacheHit: { readonly target: ModelTarget; readonly usage: Usage } | undefined = undefined;

  status = 200;
  error: GatewayError | undefined = undefined;
  /** The request's trace span when tracing is on (set at accept); undefined costs nothing. */
  span: RequestSpan | undefined = undefined;
  /** Set when the client left mid-stream and the upstream is read on (core/drain.ts); the request ends with it. */
  drain: Drain | undefined = undefined;
  #abortReason: GatewayError | undefined = undefined;
  /** Why the upstream work was stopped: the abort's reason, at once or once a drain is capped. */
  #cancelled: GatewayError | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  readonly #drains: Drains | undefined;

  constructor(init: {
    requestId: string;
    startedAt: number;
    /** Tests may pass a signal of their own; its abort counts as the client leaving. */
    signal?: AbortSignal;
    route: string;
    method: string;
    dialect: Dialect;
    operation: Operation;
    reply: ReplyPort;
    headers: Record<string, string | string[] | undefined>;
    clientAddress?: string;
    /** The server's drains (upstream.disconnect_drain); absent: a client leaving cancels its stream at once. */
    drains?: Drains;
  }) {
    this.requestId = init.requestId;
    this.startedAt = init.startedAt;
    init.signal?.addEventListener('abort', () => this.abort(new GatewayError('GW_CLIENT_CLOSED')), { once: true });
    this.route = init.route;
    this.method = init.method;
    this.dialect = init.dialect;
    this.operation = init.operation;
    this.reply = init.reply;
    this.headers = init.headers;
    this.clientAddress = init.clientAddress ?? '';
    this.#drains = init.drains;
  }

  /** A new attempt at `target`, now the current one. */
  addAttempt(target: ModelTarget): Attempt {
    const attempt = new Attempt(target);
    this.attempts.push(attempt);
    this.attempt = attempt;
    return attempt;
  }

  /**
   * Time spent upstream (ms), summed over the attempts that went out, with `untilMs` standing in for the
   * end of one still running; -1 when none went out. The gateway's own time is the rest.
   */
  upstreamMs(untilMs: number): number {
    let total = -1;
    for (const attempt of this.attempts) if (attempt.started) total = Math.max(total, 0) + attempt.durationMs(untilMs);
    return total;
  }

  /** A whole answer from `attempt`: its usage on the attempt, its finish reason and requested tools on the request. */
  noteResult(attempt: Attempt, result: ChatResult): void {
    attempt.usage = result.usage;
    this.finishReason = result.finishReason;
    for (const part of result.content) if (part.type === 'tool_use') this.toolCalls.push(part.name);
  }

  /** Why the request was aborted (the client left, or a time budget ran out); undefined while it runs. */
  get abortReason(): GatewayError | undefined {
    return this.#abortReason;
  }

  /**
   * Aborted once, with the GatewayError that ended the request, for APIs that take a signal (the mock's
   * timers). Made on first use: an AbortController costs a few objects, and most requests never need one.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort(this.#cancelled);
    }
    return this.#controller.signal;
  }

  /**
   * Once per request: the running upstream call stops through its attempt, anything holding the signal through
   * it; except a stream whose client left after its response started, which is drained: read on until its end
   * or a cap, then stopped (the reason stays the client's).
   */
  abort(reason: GatewayError): void {
    if (this.#abortReason) return;
    this.#abortReason = reason;
    this.drain = this.#drains?.start(reason, this.stream && this.reply.started, () => this.#cancel(reason));
    if (this.drain === undefined) this.#cancel(reason);
  }

  /** The last attempt's outcome for its breaker: a drained stream's is the upstream's own, not the client's leaving. */
  get upstreamErrorClass(): ErrorClass | undefined {
    const drain = this.drain;
    return drain?.result !== undefined ? drain.errorClass : this.error?.errorClass;
  }

  #cancel(reason: GatewayError): void {
    this.#cancelled = reason;
    this.#controller?.abort(reason);
    this.attempt?.call?.cancel(reason);
  }
}

export type Stage = (ctx: RequestContext) => void | Promise<void>;
