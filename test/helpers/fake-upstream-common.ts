// Shared pieces of the fake upstream: the deterministic reply, the request record and small wire helpers.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

export const FAKE_TEXT_PIECES = ['Hello', ' from', ' fake', ' upstream'];
export const FAKE_TEXT = FAKE_TEXT_PIECES.join('');
export const FAKE_USAGE = { input: 12, output: 5 } as const;
export const FAKE_RETRY_AFTER = '7';
export const FAKE_BAD_REQUEST_MESSAGE = 'Invalid value for messages: the fake upstream rejects this request';
/** slow-headers waits this long before it answers; slow-stream sends one chunk per tick for the whole duration. */
export const SLOW_HEADERS_MS = 3000;
export const SLOW_STREAM_TICK_MS = 100;
export const SLOW_STREAM_TOTAL_MS = 5000;
/**
 * stall-body sends the response headers and a first piece of the body (the first SSE event(s) of a stream,
 * half the JSON otherwise), then goes silent this long before it finishes like `ok` (if the caller is still there).
 */
export const STALL_MS = 3000;

/** What `fail-429-date` sends besides a Retry-After date 30 s ahead: the hints the OpenAI SDK reads first. */
export const FAKE_RATE_LIMIT_HEADERS = { 'retry-after-ms': '1500', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1.5s' } as const;
export const FAKE_HTML_PAGE = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';
export const FAKE_STREAM_ERROR_MESSAGE = 'The server had an error while processing your request.';

/**
 * Faults: `stream-error` sends the first text piece, then an in-stream error event (OpenAI `data: {"error"}`,
 * Anthropic `event: error`); `truncated` ends the body after the text, with no finish reason, usage, [DONE]
 * or message_stop; `json-for-stream` answers a stream request with one JSON object; `html-200` is a proxy's
 * 200 text/html page; `fail-429-date` sends Retry-After as an HTTP date with retry-after-ms and x-ratelimit-*;
 * `fail-400-echo` is a server that echoes the request headers (the gateway's key among them) in its message.
 */
export const BEHAVIOURS = [
  'ok', 'fail-500', 'fail-429', 'fail-401', 'fail-400', 'slow-headers', 'reset', 'slow-stream', 'stall-body',
  'stream-error', 'truncated', 'json-for-stream', 'html-200', 'fail-429-date', 'fail-400-echo',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or undefined when the body was empty or not JSON (then see rawBody). */
  body: any;
  rawBody: string;
  /** When the request's body had arrived (its arrival, as the routing tests read it). */
  receivedAt: number;
  /** The scripted fault applied to it (fake-upstream-script.ts), e.g. `status-500`; undefined when unscripted. */
  fault?: string;
  /** When the fake finished (or deliberately reset) its response. */
  completedAt?: number;
  /** When the peer (the gateway) closed the connection before the response was complete. */
  closedByPeerAt?: number;
}

/** One request in flight: handlers write to `res` and stop early when `signal` aborts (the peer hung up). */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  body: any;
  signal: AbortSignal;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
}

/** Resolves after ms, or early (with false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = () => { clearTimeout(timer); resolve(false); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A JSON answer whose headers and first half leave at once; the rest only after STALL_MS (stall-body). */
export async function sendJsonStalled(ex: Exchange, body: unknown): Promise<void> {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  ex.res.writeHead(200, { 'content-type': 'application/json' });
  ex.res.write(text.slice(0, half));
  if (!(await sleep(STALL_MS, ex.signal))) return;
  ex.res.end(text.slice(half));
}
