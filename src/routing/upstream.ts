// The only module that speaks HTTP to providers: one undici Pool per origin, the four timeouts,
// client-abort propagation, and the mapping of transport failures and non-2xx statuses onto the catalog.
import { Pool, errors as undiciErrors } from 'undici';
import type { Config } from '../config/schema.ts';
import { GatewayError } from '../core/errors.ts';
import type { RequestContext } from '../core/context.ts';
import type { HttpCall, Send, UpstreamResponse } from '../providers/provider.ts';

type Timeouts = Config['upstream'];

/** Upstream error bodies are read for their message only, and never more than this. */
const ERROR_BODY_LIMIT = 64 * 1024;
const CONTEXT_OVERFLOW = /context length|context window|maximum context|too many tokens|prompt is too long/i;

export class Upstreams {
  readonly #pools = new Map<string, Pool>();
  readonly #timeouts: Timeouts;

  constructor(timeouts: Timeouts) {
    this.#timeouts = timeouts;
  }

  /** A `send` bound to one origin, for a provider to use. */
  bind(baseUrl: string, connections: number): Send {
    const url = new URL(baseUrl);
    const basePath = url.pathname.replace(/\/$/, '');
    let pool = this.#pools.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections,
        connect: { timeout: this.#timeouts.connect_timeout_ms },
        headersTimeout: this.#timeouts.headers_timeout_ms,
        bodyTimeout: this.#timeouts.idle_timeout_ms,
        keepAliveTimeout: 30_000,
      });
      this.#pools.set(url.origin, pool);
    }
    const bound = pool;
    return (ctx, call) => this.#send(bound, url, basePath, ctx, call);
  }

  async #send(pool: Pool, url: URL, basePath: string, ctx: RequestContext, call: HttpCall): Promise<UpstreamResponse> {
    // The request's own signal carries both reasons to stop: the client went away (the server aborts it),
    // or the whole-call budget ran out (aborted here); its reason says which.
    const signal = ctx.signal;
    const timer = setTimeout(
      () => ctx.abort(new GatewayError('GW_UPSTREAM_TIMEOUT', `no complete response within ${this.#timeouts.total_timeout_ms} ms`)),
      this.#timeouts.total_timeout_ms,
    );
    // One CLIENT span per attempt (when tracing is on); its traceparent goes upstream, so the provider's
    // spans nest under it. Ended by release, with the failure when there is one.
    const attempt = ctx.span?.startAttempt(ctx, url);
    const release = (error?: GatewayError) => {
      clearTimeout(timer);
      attempt?.end(ctx.upstreamStatus, error);
    };

    ctx.upstreamStartedAt = performance.now() - ctx.startedAt;
    let res;
    try {
      res = await pool.request({
        method: 'POST',
        path: basePath + call.path,
        headers: attempt ? { ...call.headers, ...attempt.headers } : call.headers,
        body: call.body,
        signal,
      });
    } catch (err) {
      const error = mapTransportError(err, signal);
      release(error);
      ctx.upstreamEndedAt = performance.now() - ctx.startedAt;
      throw error;
    }
    ctx.upstreamStatus = res.statusCode;
    if (res.statusCode >= 400) {
      const text = await readBounded(res.body).catch(() => '');
      const error = mapStatus(res.statusCode, text, res.headers['retry-after']);
      release(error);
      ctx.upstreamEndedAt = performance.now() - ctx.startedAt;
      throw error;
    }
    const body = res.body;
    body.once('error', (err) => release(mapTransportError(err, signal)));
    body.once('close', () => release());
    return {
      status: res.statusCode,
      headers: res.headers,
      chunks: iterate(ctx, body, signal),
      text: async () => {
        try {
          const text = await body.text();
          ctx.upstreamEndedAt = performance.now() - ctx.startedAt;
          return text;
        } catch (err) {
          throw mapTransportError(err, signal);
        }
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
  }
}

/** Body chunks with undici failures translated, so stream consumers only ever see GatewayErrors. */
async function* iterate(ctx: RequestContext, body: AsyncIterable<Buffer>, signal: AbortSignal): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
    ctx.upstreamEndedAt = performance.now() - ctx.startedAt;
  } catch (err) {
    throw mapTransportError(err, signal);
  }
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= ERROR_BODY_LIMIT) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(parts).toString('utf8', 0, ERROR_BODY_LIMIT);
}

export function mapTransportError(err: unknown, signal: AbortSignal): GatewayError {
  if (signal.aborted && signal.reason instanceof GatewayError) return signal.reason;
  if (err instanceof GatewayError) return err;
  if (err instanceof undiciErrors.HeadersTimeoutError) return new GatewayError('GW_UPSTREAM_TIMEOUT', 'no response headers in time', { cause: err });
  if (err instanceof undiciErrors.BodyTimeoutError) return new GatewayError('GW_UPSTREAM_TIMEOUT', 'upstream went silent mid-response', { cause: err });
  if (err instanceof undiciErrors.ConnectTimeoutError) return new GatewayError('GW_UPSTREAM_TIMEOUT', 'connect timed out', { cause: err });
  return new GatewayError('GW_UPSTREAM_NETWORK', undefined, { cause: err });
}

/** Provider error bodies (OpenAI and Anthropic alike) carry `error.message`; 4xx messages are the caller's to read. */
export function mapStatus(status: number, text: string, retryAfterHeader: string | string[] | undefined): GatewayError {
  const message = extractMessage(text);
  if (status === 429) {
    const seconds = Number(Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader);
    return new GatewayError('GW_UPSTREAM_RATE_LIMITED', undefined, { retryAfter: Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined });
  }
  if (status === 401 || status === 403) return new GatewayError('GW_UPSTREAM_AUTH', `status ${status}`);
  if (status === 408 || status === 504) return new GatewayError('GW_UPSTREAM_TIMEOUT', `status ${status}`);
  if (status >= 500) return new GatewayError('GW_UPSTREAM_SERVER_ERROR', `status ${status}`);
  if (message && CONTEXT_OVERFLOW.test(message)) return new GatewayError('GW_UPSTREAM_CONTEXT_OVERFLOW', message);
  return new GatewayError('GW_UPSTREAM_BAD_REQUEST', message ?? `status ${status}`);
}

function extractMessage(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text);
    const message = parsed?.error?.message ?? parsed?.message;
    return typeof message === 'string' ? message.slice(0, 1000) : undefined;
  } catch {
    return text ? text.slice(0, 200) : undefined;
  }
}
