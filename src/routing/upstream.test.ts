import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors as undiciErrors } from 'undici';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { resolveSecret } from '../config/secrets.ts';
import { mapStatus, mapTransportError, retryAfterSeconds, Upstreams } from './upstream.ts';
import { testContext } from '../../test/helpers/context.ts';

const live = new AbortController().signal;

test('mapStatus: 429 with and without retry-after', () => {
  const withHeader = mapStatus(429, '{"error":{"message":"slow down"}}', { 'retry-after': '7' });
  assert.equal(withHeader.code, 'GW_UPSTREAM_RATE_LIMITED');
  assert.equal(withHeader.status, 429);
  assert.equal(withHeader.errorClass, 'rate_limit');
  assert.equal(withHeader.retryAfter, 7);
  assert.equal(mapStatus(429, '', { 'retry-after': ['3', '9'] }).retryAfter, 3);
  assert.equal(mapStatus(429, '', {}).retryAfter, undefined);
  assert.equal(mapStatus(429, '', { 'retry-after': '-5' }).retryAfter, undefined);
  assert.equal(mapStatus(429, '', {}).headers, undefined);
});

test('retryAfterSeconds: delay-seconds, or an HTTP-date (RFC 9110) as seconds from now, never negative', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  assert.equal(retryAfterSeconds('7', now), 7);
  assert.equal(retryAfterSeconds('0', now), 0);
  assert.equal(retryAfterSeconds('1.5', now), 1.5);
  assert.equal(retryAfterSeconds('Wed, 21 Oct 2015 07:28:30 GMT', now), 30);
  assert.equal(retryAfterSeconds('Wed, 21 Oct 2015 07:28:00 GMT', now + 400), 0, 'a date just past');
  assert.equal(retryAfterSeconds('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  assert.equal(retryAfterSeconds('Wed, 21 Oct 2015 07:28:10 GMT', now - 500), 11, 'a part second rounds up');
  for (const bad of [undefined, '', ' ', '-5', 'soon', 'NaN']) assert.equal(retryAfterSeconds(bad, now), undefined, String(bad));
});

test('mapStatus: rate limits and overloads pass the retry hints on (retry-after-ms, x-ratelimit-*, anthropic-ratelimit-*)', () => {
  const headers = {
    'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT', 'retry-after-ms': '1500', 'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-tokens': '6m0s', 'anthropic-ratelimit-requests-reset': '2099-10-21T07:28:00Z',
    'content-type': 'application/json', 'set-cookie': ['a=b'], 'x-request-id': 'upstream-id',
  };
  const limited = mapStatus(429, '', headers);
  assert.ok(limited.retryAfter! > 0);
  assert.deepEqual(limited.headers, {
    'retry-after-ms': '1500', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-tokens': '6m0s',
    'anthropic-ratelimit-requests-reset': '2099-10-21T07:28:00Z',
  });
  for (const status of [503, 529]) {
    const overloaded = mapStatus(status, '', { 'retry-after': '3', 'retry-after-ms': '2500' });
    assert.equal(overloaded.code, 'GW_UPSTREAM_SERVER_ERROR');
    assert.equal(overloaded.retryAfter, 3);
    assert.deepEqual(overloaded.headers, { 'retry-after-ms': '2500' });
  }
  assert.equal(mapStatus(500, '', { 'retry-after': '3' }).retryAfter, undefined, 'a plain 500 is no hint to wait');
});

test("mapStatus: the gateway's secrets are scrubbed from the upstream message before it is cut", () => {
  const key = 'sk-upstream-redaction-unit-test';
  resolveSecret(key);
  const echoed = mapStatus(400, JSON.stringify({ error: { message: `bad header: authorization: Bearer ${key}` } }), {});
  assert.equal(echoed.detail, 'bad header: authorization: Bearer [redacted]');
  const plain = mapStatus(422, `${'x'.repeat(190)}${key}`, {});
  assert.equal(plain.detail, `${'x'.repeat(190)}[redacted]`, 'no prefix of the key survives the 200-character cut');
  assert.doesNotMatch(mapStatus(400, `{"message":"context length exceeded for ${key}"}`, {}).message, /sk-upstream/);
});

test('mapStatus: 401/403 are the gateway credentials, not the caller', () => {
  for (const status of [401, 403]) {
    const err = mapStatus(status, '{"error":{"message":"bad key sk-123"}}', {});
    assert.equal(err.code, 'GW_UPSTREAM_AUTH');
    assert.equal(err.status, 502);
    assert.equal(err.detail, `status ${status}`);
    assert.doesNotMatch(err.message, /sk-123/); // the upstream's text about our key is not passed on
  }
});

test('mapStatus: 408/504 are timeouts, other 5xx are server errors', () => {
  for (const status of [408, 504]) {
    const err = mapStatus(status, '', {});
    assert.equal(err.code, 'GW_UPSTREAM_TIMEOUT');
    assert.equal(err.status, 504);
    assert.equal(err.errorClass, 'timeout');
  }
  for (const status of [500, 502, 503, 529]) {
    const err = mapStatus(status, '{"error":{"message":"overloaded"}}', {});
    assert.equal(err.code, 'GW_UPSTREAM_SERVER_ERROR');
    assert.equal(err.status, 502);
    assert.equal(err.detail, `status ${status}`);
  }
});

test('mapStatus: context-overflow messages (OpenAI and Anthropic wording)', () => {
  const messages = [
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
    'prompt is too long: 210000 tokens > 200000 maximum',
    'Input exceeds the context window of this model',
  ];
  for (const message of messages) {
    const err = mapStatus(400, JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message } }), {});
    assert.equal(err.code, 'GW_UPSTREAM_CONTEXT_OVERFLOW', message);
    assert.equal(err.errorClass, 'context_overflow');
    assert.equal(err.detail, message);
  }
});

test('mapStatus: other 4xx carry the upstream message for the caller', () => {
  const err = mapStatus(400, '{"error":{"message":"Invalid value for temperature"}}', {});
  assert.equal(err.code, 'GW_UPSTREAM_BAD_REQUEST');
  assert.equal(err.status, 400);
  assert.equal(err.detail, 'Invalid value for temperature');
  assert.equal(err.publicMessage, 'Upstream rejected the request: Invalid value for temperature');
  assert.equal(mapStatus(404, '{"message":"no such model"}', {}).detail, 'no such model');
  assert.equal(mapStatus(422, 'plain text body', {}).detail, 'plain text body');
  assert.equal(mapStatus(400, '', {}).detail, 'status 400');
  assert.equal(mapStatus(400, 'x'.repeat(500), {}).detail!.length, 200);
});

test('mapTransportError: undici timeouts → GW_UPSTREAM_TIMEOUT with what timed out', () => {
  const cases: [Error, string][] = [
    [new undiciErrors.HeadersTimeoutError(), 'no response headers in time'],
    [new undiciErrors.BodyTimeoutError(), 'upstream went silent mid-response'],
    [new undiciErrors.ConnectTimeoutError(), 'connect timed out'],
  ];
  for (const [cause, detail] of cases) {
    const err = mapTransportError(cause, live);
    assert.equal(err.code, 'GW_UPSTREAM_TIMEOUT');
    assert.equal(err.detail, detail);
    assert.equal(err.cause, cause);
  }
});

test('mapTransportError: other errors → GW_UPSTREAM_NETWORK; GatewayErrors and abort reasons pass through', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const network = mapTransportError(refused, live);
  assert.equal(network.code, 'GW_UPSTREAM_NETWORK');
  assert.equal(network.cause, refused);
  assert.equal(network.errorClass, 'network');

  const own = new GatewayError('GW_UPSTREAM_PROTOCOL');
  assert.equal(mapTransportError(own, live), own);

  const controller = new AbortController();
  const reason = new GatewayError('GW_CLIENT_CLOSED');
  controller.abort(reason);
  assert.equal(mapTransportError(new undiciErrors.RequestAbortedError(), controller.signal), reason);

  const plain = new AbortController();
  plain.abort(new Error('not a gateway error'));
  assert.equal(mapTransportError(new Error('aborted'), plain.signal).code, 'GW_UPSTREAM_NETWORK');
});

const context = (signal: AbortSignal = live): RequestContext =>
  testContext({ signal, target: { name: 'fake', upstreamModel: 'fake', providerId: 'fake', deploymentId: 'test', type: 'chat' }, attempt: true });

/** The transport's first arguments: the context and its attempt, as a provider passes them. */
const withAttempt = (ctx: RequestContext) => [ctx, ctx.attempt!] as const;

const OPTIONS = { connect_timeout_ms: 2000, headers_timeout_ms: 5000, idle_timeout_ms: 5000, total_timeout_ms: 5000, queue_limit: 1024, queue_timeout_ms: 5000, disconnect_drain: { max_ms: 5000, max_bytes: 1 << 20 } };

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function withServer(handler: Handler, timeouts: Partial<ConstructorParameters<typeof Upstreams>[0]>, run: (upstreams: Upstreams, base: string) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const upstreams = new Upstreams({ ...OPTIONS, ...timeouts });
  try {
    await run(upstreams, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`);
  } finally {
    server.closeAllConnections();
    await upstreams.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

test('Upstreams: a 200 JSON answer read via text(), path joined under the base path', async () => {
  const seen: { path?: string; body?: string; auth?: string } = {};
  await withServer((req, res, body) => {
    Object.assign(seen, { path: req.url, body, auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"text":"héllo"}');
  }, {}, async (upstreams, base) => {
    const ctx = context();
    const send = upstreams.bind(base, 2);
    const res = await send(ctx, ctx.attempt!, { path: '/chat/completions', headers: ['content-type', 'application/json', 'authorization', 'Bearer up'], body: '{"q":1}' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(await res.text(), '{"ok":true,"text":"héllo"}');
    assert.equal(ctx.attempt!.status, 200);
    assert.ok(ctx.attempt!.startedAt >= 0);
  });
  assert.deepEqual(seen, { path: '/v1/chat/completions', body: '{"q":1}', auth: 'Bearer up' });
});

test('Upstreams: a 500 becomes GW_UPSTREAM_SERVER_ERROR and records the status', async () => {
  await withServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
  }, {}, async (upstreams, base) => {
    const ctx = context();
    await assert.rejects(upstreams.bind(base, 2)(ctx, ctx.attempt!, { path: '/x', headers: [], body: '{}' }), (err: GatewayError) => {
      assert.equal(err.code, 'GW_UPSTREAM_SERVER_ERROR');
      assert.equal(err.detail, 'status 500');
      return true;
    });
    assert.equal(ctx.attempt!.status, 500);
    assert.equal(ctx.attempt!.error?.code, 'GW_UPSTREAM_SERVER_ERROR');
  });
});

test('Upstreams: the total timeout (no headers ever) becomes GW_UPSTREAM_TIMEOUT', async () => {
  await withServer(() => { /* never answers */ }, { total_timeout_ms: 80 }, async (upstreams, base) => {
    const started = performance.now();
    await assert.rejects(upstreams.bind(base, 2)(...withAttempt(context()), { path: '/x', headers: [], body: '{}' }), (err: GatewayError) => {
      assert.equal(err.code, 'GW_UPSTREAM_TIMEOUT');
      assert.equal(err.detail, 'no complete response within 80 ms');
      return true;
    });
    assert.ok(performance.now() - started < 2000);
  });
});

test('Upstreams: the total timeout also covers a body that stalls after the headers', async () => {
  await withServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
  }, { total_timeout_ms: 100 }, async (upstreams, base) => {
    const res = await upstreams.bind(base, 2)(...withAttempt(context()), { path: '/x', headers: [], body: '{}' });
    await assert.rejects(res.text(), (err: GatewayError) => err instanceof GatewayError && err.code === 'GW_UPSTREAM_TIMEOUT');
  });
});

test('Upstreams: a client abort while waiting becomes GW_CLIENT_CLOSED', async () => {
  await withServer(() => { /* never answers */ }, {}, async (upstreams, base) => {
    const client = new AbortController();
    const pending = upstreams.bind(base, 2)(...withAttempt(context(client.signal)), { path: '/x', headers: [], body: '{}' });
    setTimeout(() => client.abort(), 20);
    await assert.rejects(pending, (err: GatewayError) => err.code === 'GW_CLIENT_CLOSED');
  });
});

test('Upstreams: a refused connection becomes GW_UPSTREAM_NETWORK', async () => {
  const upstreams = new Upstreams(OPTIONS);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  try {
    await assert.rejects(upstreams.bind(`http://127.0.0.1:${port}`, 1)(...withAttempt(context()), { path: '/x', headers: [], body: '{}' }),
      (err: GatewayError) => err.code === 'GW_UPSTREAM_NETWORK');
  } finally {
    await upstreams.close();
  }
});

test('Upstreams: a large streamed body arrives whole and in order through a slow consumer (the socket pauses, nothing is lost)', async () => {
  const piece = 'x'.repeat(16 * 1024);
  await withServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < 64; i++) res.write(`${i}:${piece}\n`);
    res.end();
  }, {}, async (upstreams, base) => {
    const ctx = context();
    const res = await upstreams.bind(base, 2)(ctx, ctx.attempt!, { path: '/x', headers: [], body: '{}' });
    let text = '';
    for await (const chunk of res.chunks) {
      text += chunk.toString();
      await new Promise((resolve) => setImmediate(resolve)); // slower than the socket
    }
    const lines = text.split('\n').filter(Boolean);
    assert.equal(lines.length, 64);
    for (const [i, line] of lines.entries()) assert.equal(line, `${i}:${piece}`);
    assert.ok(ctx.attempt!.endedAt >= ctx.attempt!.startedAt);
  });
});

test('Upstreams: a consumer that stops reading mid-stream ends the call, and the pool serves the next one', async () => {
  let calls = 0;
  await withServer((_req, res) => {
    calls++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    if (calls > 1) res.end('data: [DONE]\n\n'); // the first answer never ends
  }, {}, async (upstreams, base) => {
    const send = upstreams.bind(base, 1);
    const first = await send(...withAttempt(context()), { path: '/x', headers: [], body: '{}' });
    for await (const chunk of first.chunks) {
      assert.match(chunk.toString(), /first/);
      break;
    }
    const second = await send(...withAttempt(context()), { path: '/x', headers: [], body: '{}' });
    assert.match(await second.text(), /\[DONE\]/);
  });
});

test('Upstreams: an abort while queued for a connection fails at once, not when a connection frees', async () => {
  await withServer(() => { /* never answers: holds the only connection */ }, {}, async (upstreams, base) => {
    const send = upstreams.bind(base, 1);
    const holder = new AbortController();
    const held = send(...withAttempt(context(holder.signal)), { path: '/x', headers: [], body: '{}' }).catch((err) => err);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const client = new AbortController();
    const queued = send(...withAttempt(context(client.signal)), { path: '/x', headers: [], body: '{}' });
    setTimeout(() => client.abort(), 20);
    await assert.rejects(queued, (err: GatewayError) => err.code === 'GW_CLIENT_CLOSED');
    holder.abort();
    assert.equal((await held).code, 'GW_CLIENT_CLOSED');
  });
});
