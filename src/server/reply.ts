// ReplyPort over a raw Node response: the pipeline's only way to talk to the client.
import type { ServerResponse } from 'node:http';
import type { Dialect } from '../core/canonical.ts';
import type { ReplyPort } from '../core/context.ts';
import type { GatewayError } from '../core/errors.ts';
import { errorBody, errorEvent } from './reply-error.ts';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

export class NodeReply implements ReplyPort {
  readonly #res: ServerResponse;
  readonly #dialect: Dialect;
  readonly #requestId: string;
  started = false;
  /** Told when an SSE response opens (stream gauges and timing). */
  onStreamStart: (() => void) | undefined = undefined;

  constructor(res: ServerResponse, dialect: Dialect, requestId: string) {
    this.#res = res;
    this.#dialect = dialect;
    this.#requestId = requestId;
    res.setHeader('x-request-id', requestId);
    if (dialect === 'anthropic') res.setHeader('request-id', requestId);
  }

  json(status: number, body: string | Buffer, headers?: Record<string, string>): void {
    if (this.#res.destroyed) return;
    this.started = true;
    this.#res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    this.#res.end(body);
  }

  startStream(headers?: Record<string, string>): void {
    this.started = true;
    this.#res.writeHead(200, { ...headers, ...SSE_HEADERS });
    this.#res.flushHeaders();
    this.onStreamStart?.();
  }

  write(chunk: string): Promise<void> | void {
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

  fail(error: GatewayError): void {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    if (this.started) {
      res.end(errorEvent(error, this.#dialect, this.#requestId));
      return;
    }
    const headers: Record<string, string> = {};
    if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
    this.json(error.status, errorBody(error, this.#dialect, this.#requestId), headers);
  }
}
