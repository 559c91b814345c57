// ReplyPort over a raw Node response: the pipeline's only way to talk to the client.
import type { ServerResponse } from 'node:http';
import type { Dialect } from '../core/canonical.ts';
import type { ReplyPort } from '../core/context.ts';
import type { GatewayError } from '../core/errors.ts';
import { errorBody, errorEvent } from './reply-error.ts';

/** An SSE response's own headers, as [name, value, …]. */
const SSE_HEADERS = ['content-type', 'text/event-stream; charset=utf-8', 'cache-control', 'no-cache', 'x-accel-buffering', 'no'];

/**
 * Response headers are handed to writeHead as one flat [name, value, …] list: with no setHeader before it,
 * node:http writes the list as it is instead of storing and re-validating each header one by one.
 */
export class NodeReply implements ReplyPort {
  readonly #res: ServerResponse;
  readonly #dialect: Dialect;
  readonly #requestId: string;
  started = false;
  /** Headers added for the response before it is sent (policy/admit.ts: a limited key's rate-limit state). */
  #extra: Record<string, string> | undefined = undefined;
  /** Told when an SSE response opens (stream gauges and timing). */
  onStreamStart: (() => void) | undefined = undefined;

  constructor(res: ServerResponse, dialect: Dialect, requestId: string) {
    this.#res = res;
    this.#dialect = dialect;
    this.#requestId = requestId;
  }

  json(status: number, body: string | Buffer, headers?: Record<string, string>): void {
    if (this.#res.destroyed) return;
    this.started = true;
    this.#res.writeHead(status, this.#headers(headers, 'content-type', 'application/json', 'content-length', String(Buffer.byteLength(body))));
    this.#res.end(body);
  }

  startStream(headers?: Record<string, string>): void {
    this.started = true;
    this.#res.writeHead(200, this.#headers(headers, ...SSE_HEADERS));
    this.#res.flushHeaders();
    this.onStreamStart?.();
  }

  open(status: number, headers: Record<string, string>): void {
    this.started = true;
    this.#res.writeHead(status, this.#headers(headers));
  }

  write(chunk: string | Buffer): Promise<void> | void {
    if (this.#res.write(chunk) || this.#res.destroyed) return;
    // Back-pressure: wait until the client drains, or goes away.
    return new Promise((resolve) => {
      const done = () => {
        this.#res.off('drain', done);
        this.#res.off('close', done);
        resolve();
      };
      this.#res.on('drain', done);
      this.#res.on('close', done);
    });
  }

  end(): void {
    this.#res.end();
  }

  addHeaders(headers: Record<string, string>): void {
    this.#extra = this.#extra ? { ...this.#extra, ...headers } : headers;
  }

  fail(error: GatewayError): void {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    if (this.started) {
      res.end(errorEvent(error, this.#dialect, this.#requestId));
      return;
    }
    // Every error says whether to retry it, so the SDKs' status rules (retry any 5xx) never decide alone.
    const headers: Record<string, string> = { ...error.headers, 'x-should-retry': error.retryable ? 'true' : 'false' };
    if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
    this.json(error.status, errorBody(error, this.#dialect, this.#requestId), headers);
  }

  /** The request id (twice for Anthropic clients, whose SDK reads `request-id`), added headers, the given headers, then `extra`. */
  #headers(headers: Record<string, string> | undefined, ...extra: string[]): string[] {
    const list = this.#dialect === 'anthropic'
      ? ['x-request-id', this.#requestId, 'request-id', this.#requestId]
      : ['x-request-id', this.#requestId];
    const added = this.#extra;
    for (const name in added) if (!headers || !(name in headers)) list.push(name, added[name]); // the given headers win (an upstream's own)
    for (const name in headers) list.push(name, headers[name]);
    list.push(...extra);
    return list;
  }
}
