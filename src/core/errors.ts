// The error catalog: every failure a client can see has one stable code here. Codes are never reused.
// The class is the closed vocabulary that metrics (`error_class`), retries, fallbacks and SLOs share;
// its side says whose fault it was, so availability can exclude caller errors.

export const ERROR_CLASSES = {
  invalid_request: 'caller',
  context_overflow: 'caller',
  auth: 'caller',
  /** The gateway's own rate limits and parallel caps (per key, per client address). */
  limited: 'caller',
  /** A key's, user's or team's budget is spent. */
  quota: 'caller',
  client_abort: 'caller',
  rate_limit: 'provider',
  server_error: 'provider',
  timeout: 'provider',
  network: 'provider',
  protocol: 'provider',
  /**
   * No deployment of a model or its fallbacks could take the request: their breakers opened on the providers'
   * failures, or they are at max_parallel. The providers' side, so an upstream outage does not burn the
   * gateway's availability SLO (the answer itself is the gateway working as configured).
   */
  unroutable: 'provider',
  upstream_auth: 'gateway',
  unavailable: 'gateway',
  internal: 'gateway',
} as const;

export type ErrorClass = keyof typeof ERROR_CLASSES;
export type ErrorSide = (typeof ERROR_CLASSES)[ErrorClass];

/** The `outcome` metric label: success, or whose fault a failure was. SLOs count by it. */
export type Outcome = 'success' | `${ErrorSide}_error`;

const SIDE_OUTCOMES: Record<ErrorSide, Outcome> = { caller: 'caller_error', provider: 'provider_error', gateway: 'gateway_error' };

/**
 * A request's or call's outcome: its error's side; without an error, its HTTP status (an error status
 * without a GatewayError, e.g. a health probe's 503, is the gateway's).
 */
export function outcomeOf(error: { errorClass: ErrorClass } | undefined, status = 200): Outcome {
  if (error) return SIDE_OUTCOMES[ERROR_CLASSES[error.errorClass]];
  return status >= 500 ? 'gateway_error' : status >= 400 ? 'caller_error' : 'success';
}

interface CatalogEntry {
  status: number;
  class: ErrorClass;
  /** The client sees `message` (plus any detail) only when true; otherwise a generic text. */
  expose: boolean;
  /**
   * Whether the same request may succeed if sent again. The client is told in `x-should-retry`, which the
   * official SDKs obey before their status rules (they would retry every 5xx, 408, 409 and 429 otherwise).
   */
  retryable: boolean;
  message: string;
  /** OpenAI's error `type` when it is not the one its status implies (server/reply-error.ts). */
  openaiType?: string;
}

export const ERRORS = {
  GW_REQUEST_MALFORMED_JSON: { status: 400, class: 'invalid_request', expose: true, retryable: false, message: 'Request body is not valid JSON' },
  GW_REQUEST_INVALID: { status: 400, class: 'invalid_request', expose: true, retryable: false, message: 'Invalid request' },
  GW_REQUEST_BODY_TOO_LARGE: { status: 413, class: 'invalid_request', expose: true, retryable: false, message: 'Request body is larger than the gateway allows' },
  GW_REQUEST_UNSUPPORTED: { status: 400, class: 'invalid_request', expose: true, retryable: false, message: 'Request uses a feature the target model does not support' },
  GW_ROUTE_NOT_FOUND: { status: 404, class: 'invalid_request', expose: true, retryable: false, message: 'No such endpoint' },
  GW_METHOD_NOT_ALLOWED: { status: 405, class: 'invalid_request', expose: true, retryable: false, message: 'This endpoint does not answer this method' },
  GW_MODEL_NOT_FOUND: { status: 404, class: 'invalid_request', expose: true, retryable: false, message: 'Model is not configured on this gateway' },
  GW_MODEL_WRONG_TYPE: { status: 400, class: 'invalid_request', expose: true, retryable: false, message: 'Model does not serve this operation' },
  GW_AUTH_MISSING_KEY: { status: 401, class: 'auth', expose: true, retryable: false, message: 'Missing API key: send Authorization: Bearer <key> or x-api-key' },
  GW_AUTH_INVALID_KEY: { status: 401, class: 'auth', expose: true, retryable: false, message: 'Invalid API key' },
  GW_AUTH_KEY_REVOKED: { status: 401, class: 'auth', expose: true, retryable: false, message: 'API key has been revoked' },
  GW_AUTH_KEY_EXPIRED: { status: 401, class: 'auth', expose: true, retryable: false, message: 'API key has expired' },
  GW_AUTH_MODEL_NOT_ALLOWED: { status: 403, class: 'auth', expose: true, retryable: false, message: 'This API key may not use this model' },
  GW_AUTH_BLOCKED: { status: 429, class: 'auth', expose: true, retryable: false, message: 'Too many failed authentication attempts from this address; retry later' },
  GW_RATE_LIMITED: { status: 429, class: 'limited', expose: true, retryable: true, message: 'Rate limit reached' },
  GW_BUDGET_EXCEEDED: { status: 429, class: 'quota', expose: true, retryable: false, message: 'Budget exhausted', openaiType: 'insufficient_quota' },
  GW_LIMITS_UNAVAILABLE: { status: 503, class: 'unavailable', expose: true, retryable: true, message: 'Rate limits and budgets cannot be checked right now (shared counter store unreachable)' },
  GW_ADMIN_UNAUTHORIZED: { status: 401, class: 'auth', expose: true, retryable: false, message: 'Admin API: missing or invalid admin token (Authorization: Bearer)' },
  GW_ADMIN_FORBIDDEN: { status: 403, class: 'auth', expose: true, retryable: false, message: 'Admin API: gateway keys cannot use it; send the admin token' },
  GW_ADMIN_NOT_FOUND: { status: 404, class: 'invalid_request', expose: true, retryable: false, message: 'No such object' },
  GW_CLIENT_CLOSED: { status: 499, class: 'client_abort', expose: true, retryable: false, message: 'Client closed the request' },
  GW_UPSTREAM_BAD_REQUEST: { status: 400, class: 'invalid_request', expose: true, retryable: false, message: 'Upstream rejected the request' },
  GW_UPSTREAM_CONTEXT_OVERFLOW: { status: 400, class: 'context_overflow', expose: true, retryable: false, message: 'Request exceeds the model context window' },
  GW_UPSTREAM_RATE_LIMITED: { status: 429, class: 'rate_limit', expose: true, retryable: true, message: 'Upstream provider is rate limiting; retry later' },
  GW_UPSTREAM_SERVER_ERROR: { status: 502, class: 'server_error', expose: true, retryable: true, message: 'Upstream provider failed' },
  GW_UPSTREAM_TIMEOUT: { status: 504, class: 'timeout', expose: true, retryable: true, message: 'Upstream provider timed out' },
  GW_UPSTREAM_NETWORK: { status: 502, class: 'network', expose: true, retryable: true, message: 'Could not reach the upstream provider' },
  GW_UPSTREAM_PROTOCOL: { status: 502, class: 'protocol', expose: true, retryable: true, message: 'Upstream provider sent a response the gateway cannot read' },
  GW_UPSTREAM_AUTH: { status: 502, class: 'upstream_auth', expose: true, retryable: false, message: 'Gateway credentials for the upstream provider were rejected' },
  GW_PROVIDER_UNAVAILABLE: { status: 500, class: 'unavailable', expose: true, retryable: false, message: 'The provider for this model is not usable' },
  GW_NO_DEPLOYMENT_AVAILABLE: { status: 503, class: 'unroutable', expose: true, retryable: true, message: 'Every deployment of this model and its fallbacks is unavailable (circuit breakers open or at capacity); retry later' },
  GW_UPSTREAM_QUEUE_FULL: { status: 503, class: 'unavailable', expose: true, retryable: true, message: 'Too many requests are waiting for a connection to the upstream provider; retry later' },
  GW_UNAVAILABLE_DRAINING: { status: 503, class: 'unavailable', expose: true, retryable: true, message: 'Gateway is shutting down' },
  GW_INTERNAL: { status: 500, class: 'internal', expose: false, retryable: false, message: 'Internal gateway error' },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERRORS;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errorClass: ErrorClass;
  /** Client-safe extra text (e.g. which field is wrong, or the upstream's own 4xx message). */
  readonly detail: string | undefined;
  /** Request parameter at fault, for OpenAI's `param`. */
  readonly param: string | undefined;
  /** Seconds the client should wait before retrying (an upstream Retry-After, or the gateway's own). */
  readonly retryAfter: number | undefined;
  /** Further response headers for the client, e.g. an upstream's `retry-after-ms` and `x-ratelimit-*`. */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, detail?: string, options: { cause?: unknown; param?: string; retryAfter?: number; headers?: Record<string, string> } = {}) {
    const entry: CatalogEntry = ERRORS[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = entry.status;
    this.errorClass = entry.class;
    this.detail = detail;
    this.param = options.param;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers;
  }

  /** Whether sending the same request again may succeed (the catalog's word, for `x-should-retry`). */
  get retryable(): boolean {
    return ERRORS[this.code].retryable;
  }

  /** What the client may read. */
  get publicMessage(): string {
    return ERRORS[this.code].expose ? this.message : ERRORS[this.code].message;
  }
}

/** Anything thrown that is not a GatewayError is a gateway bug: it becomes GW_INTERNAL, its text stays in the log. */
export function toGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : new GatewayError('GW_INTERNAL', undefined, { cause: err });
}
