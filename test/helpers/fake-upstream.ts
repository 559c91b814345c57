// A fake LLM provider on 127.0.0.1 that speaks both the OpenAI-compatible API and Anthropic's Messages API.
// The upstream model name in the request body picks the behaviour (see BEHAVIOURS), unless a test scripted
// faults for that name (fake-upstream-script.ts); every request is recorded so tests can assert what the
// gateway sent upstream, when it arrived and when the gateway hung up.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleOpenAI } from './fake-upstream-openai.ts';
import { handleAnthropic } from './fake-upstream-anthropic.ts';
import { serveFixture } from './fake-upstream-fixture.ts';
import { applyFault, FaultScripts, type Fault } from './fake-upstream-script.ts';
import {
  FAKE_BAD_REQUEST_MESSAGE, FAKE_HTML_PAGE, FAKE_RATE_LIMIT_HEADERS, FAKE_RETRY_AFTER, SLOW_HEADERS_MS, sendJson, sleep,
  type Exchange, type RecordedRequest,
} from './fake-upstream-common.ts';

export * from './fake-upstream-common.ts';
export { fixtureModel, readFixture } from './fake-upstream-fixture.ts';
export { burst, fault, type Fault } from './fake-upstream-script.ts';

/** Per-API wire details the shared failure behaviours need. */
export interface ApiDialect {
  errorBody(status: number, message: string): unknown;
  /** The key the caller presented, as the real provider would read it. */
  presentedKey(headers: IncomingHttpHeaders): string;
}

export interface FakeUpstream {
  /** Origin, e.g. http://127.0.0.1:12345 (OpenAI-compatible base_url is `${url}/v1`). */
  url: string;
  requests: RecordedRequest[];
  /** Requests whose body.model is the given upstream model (optionally on one path). */
  requestsFor(model: string, path?: string): RecordedRequest[];
  /** Resolves with the first recorded request matching `pred` (polling), or rejects after timeoutMs. */
  waitFor(pred: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Scripts the next requests to upstream model `model`: `steps` in order, then `then` (default: normal answers). */
  script(model: string, steps: readonly Fault[], then?: Fault): void;
  /** Drops every script: every model answers by its name again. */
  clearScripts(): void;
  close(): Promise<void>;
}

const openaiDialect: ApiDialect = {
  errorBody: (status, message) => ({
    error: {
      message,
      type: status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error',
      param: null,
      code: status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : null,
    },
  }),
  presentedKey: (headers) => String(headers.authorization ?? '').replace(/^Bearer\s+/i, ''),
};

const anthropicDialect: ApiDialect = {
  errorBody: (status, message) => ({
    type: 'error',
    error: {
      type: { 400: 'invalid_request_error', 401: 'authentication_error', 429: 'rate_limit_error' }[status] ?? 'api_error',
      message,
    },
  }),
  presentedKey: (headers) => String(headers['x-api-key'] ?? ''),
};

/** The failure behaviours are the same on every endpoint; only the error body's shape differs. Returns true when handled. */
async function failureBehaviour(ex: Exchange, dialect: ApiDialect): Promise<boolean> {
  const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
    ex.record.completedAt = Date.now();
    sendJson(ex.res, status, dialect.errorBody(status, message), headers);
    return true;
  };
  switch (ex.body?.model as string | undefined) {
    case 'fail-500': return fail(500, 'The fake upstream had an internal error');
    case 'fail-429': return fail(429, 'Rate limit reached for requests', { 'retry-after': FAKE_RETRY_AFTER });
    // Like the real providers, the 401 message quotes the key it received: the gateway must not pass it on.
    case 'fail-401': return fail(401, `Incorrect API key provided: ${dialect.presentedKey(ex.req.headers)}`);
    case 'fail-400': return fail(400, FAKE_BAD_REQUEST_MESSAGE);
    case 'fail-429-date': {
      const retryAt = new Date(Date.now() + 30_000).toUTCString();
      return fail(429, 'Rate limit reached for requests', { 'retry-after': retryAt, ...FAKE_RATE_LIMIT_HEADERS });
    }
    case 'fail-400-echo': return fail(400, `Unrecognized request headers: ${JSON.stringify(ex.req.headers)}`);
    case 'html-200':
      ex.record.completedAt = Date.now();
      ex.res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(FAKE_HTML_PAGE);
      return true;
    case 'reset':
      ex.record.completedAt = Date.now();
      ex.req.socket.destroy();
      return true;
    case 'slow-headers':
      // After the wait the request is answered like `ok` (if the gateway is still there).
      return !(await sleep(SLOW_HEADERS_MS, ex.signal));
    default:
      return false;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, requests: RecordedRequest[], scripts: FaultScripts): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const rawBody = Buffer.concat(chunks).toString('utf8');
  let body: any;
  try { body = rawBody ? JSON.parse(rawBody) : undefined; } catch { body = undefined; }
  const path = (req.url ?? '/').split('?')[0];
  const record: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body, rawBody, receivedAt: Date.now() };
  requests.push(record);

  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished && record.completedAt === undefined) {
      record.closedByPeerAt = Date.now();
      controller.abort();
    }
  });
  res.on('finish', () => { record.completedAt ??= Date.now(); });
  const ex: Exchange = { req, res, record, body, signal: controller.signal };

  const isAnthropic = path === '/v1/messages';
  if (req.method !== 'POST') return sendJson(res, 404, openaiDialect.errorBody(404, `No route ${req.method} ${path}`));
  if (body === undefined) return sendJson(res, 400, (isAnthropic ? anthropicDialect : openaiDialect).errorBody(400, 'Body is not JSON'));
  const scripted = scripts.next(body.model);
  if (scripted && (await applyFault(ex, scripted, (isAnthropic ? anthropicDialect : openaiDialect).errorBody))) return;
  if (serveFixture(ex)) return;
  if (await failureBehaviour(ex, isAnthropic ? anthropicDialect : openaiDialect)) return;
  if (isAnthropic) return handleAnthropic(ex);
  if (!(await handleOpenAI(ex, path))) sendJson(res, 404, openaiDialect.errorBody(404, `No route ${req.method} ${path}`));
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const scripts = new FaultScripts();
  const server = createServer((req, res) => {
    handle(req, res, requests, scripts).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `fake upstream bug: ${err}` } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsFor: (model, path) => requests.filter((r) => r.body?.model === model && (path === undefined || r.path === path)),
    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = requests.find(pred);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`fake upstream: no matching request within ${timeoutMs} ms`);
        await sleep(20);
      }
    },
    script: (model, steps, then) => scripts.set(model, steps, then),
    clearScripts: () => scripts.clear(),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
