// Failures on /v1/messages, in Anthropic's error shape and seen through `@anthropic-ai/sdk`'s error classes.
// The Anthropic shape has no field for the gateway's GW_* code: the request's log line carries it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { FAKE_BAD_REQUEST_MESSAGE, FAKE_RETRY_AFTER, FAKE_TEXT_PIECES, SLOW_HEADERS_MS, STALL_MS } from '../helpers/fake-upstream.ts';
import { assertAnthropicError, assertNoSecret } from '../helpers/errors.ts';
import { CLIENT_KEY, claude, readToEnd, rejectsAs, startStack, userMessage, type Stack } from '../helpers/stack.ts';

/**
 * Small upstream budgets so the timeout tests are quick; slow-stream's 100 ms ticks stay under the idle one.
 * undici runs the headers and idle (body) timers on its coarse "fast timers" (~0.5 s ticks), so a 300 ms idle
 * timeout fires after ~0.5–1.3 s; the total budget (a native timer, exact) stays clear of that.
 */
const IDLE_TIMEOUT_MS = 300;
const TOTAL_TIMEOUT_MS = 2000;

let stack: Stack;
before(async () => {
  stack = await startStack({
    server: { body_limit_bytes: 2048 },
    upstream: { headers_timeout_ms: 500, idle_timeout_ms: IDLE_TIMEOUT_MS, total_timeout_ms: TOTAL_TIMEOUT_MS },
  });
});
after(async () => { await stack?.stop(); });

const create = (model: string, content = 'hello') =>
  stack.anthropic.messages.create({ model, max_tokens: 32, messages: userMessage(content) });

test('malformed JSON → 400 invalid_request_error in the Anthropic shape', async () => {
  const res = await fetch(`${stack.gateway.url}/v1/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: '{"model": ',
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.type, 'error');
  assert.equal(body.error?.type, 'invalid_request_error');
  assert.equal(typeof body.error?.message, 'string');
  assert.equal(typeof body.request_id, 'string');
});

test('malformed JSON sent by the Anthropic SDK itself → BadRequestError invalid_request_error with the request id', async () => {
  // The SDK always serialises valid JSON; a custom fetch swaps the body on its way out.
  const sent: string[] = [];
  const client = new Anthropic({
    baseURL: stack.gateway.url, apiKey: CLIENT_KEY, maxRetries: 0,
    fetch: (url, init) => { sent.push(String(url)); return fetch(url, { ...init, body: '{"model": "mock-chat", "messages": [' }); },
  });
  const marker = 'malformed-anthropic-sdk';
  const err = await rejectsAs(
    client.messages.create({ model: 'mock-chat', max_tokens: 8, messages: userMessage('hi') }, { headers: { 'x-request-id': marker } }),
    Anthropic.BadRequestError,
  );
  assert.deepEqual(sent, [`${stack.gateway.url}/v1/messages`]);
  assertAnthropicError(err, 400, 'invalid_request_error');
  assert.equal(err.requestID, marker, 'the request-id header the SDK reads');
  assert.equal((err.error as any).request_id, marker);
  assert.match(err.message, /not valid JSON/);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.status, 400);
  assert.equal(line.error_code, 'GW_REQUEST_MALFORMED_JSON');
  assert.equal(line.error_class, 'invalid_request');
});

test('unknown model → 404 NotFoundError not_found_error', async () => {
  const err = await rejectsAs(create('no-such-model'), Anthropic.NotFoundError);
  assertAnthropicError(err, 404, 'not_found_error');
});

test('body over server.body_limit_bytes → 413 ContentTooLargeError request_too_large', async () => {
  const err = await rejectsAs(create('mock-chat', 'x'.repeat(5000)), Anthropic.ContentTooLargeError);
  assertAnthropicError(err, 413, 'request_too_large');
});

test('upstream 500 → 502 InternalServerError api_error', async () => {
  const err = await rejectsAs(create(claude('fail-500')), Anthropic.InternalServerError);
  assertAnthropicError(err, 502, 'api_error');
});

test('upstream 429 → 429 RateLimitError rate_limit_error with retry-after preserved', async () => {
  const err = await rejectsAs(create(claude('fail-429')), Anthropic.RateLimitError);
  assertAnthropicError(err, 429, 'rate_limit_error');
  assert.equal(err.headers.get('retry-after'), FAKE_RETRY_AFTER);
});

test('upstream 400 → 400 BadRequestError invalid_request_error carrying the upstream message', async () => {
  const err = await rejectsAs(create(claude('fail-400')), Anthropic.BadRequestError);
  assertAnthropicError(err, 400, 'invalid_request_error');
  assert.ok(err.message.includes(FAKE_BAD_REQUEST_MESSAGE), err.message);
});

test('upstream 401 → 502 api_error, and the key the upstream quoted is not passed on', async () => {
  const err = await rejectsAs(create(claude('fail-401')), Anthropic.InternalServerError);
  assertAnthropicError(err, 502, 'api_error');
});

test('upstream slower than upstream.headers_timeout_ms → 504 GatewayTimeoutError timeout_error', async () => {
  const started = Date.now();
  const err = await rejectsAs(create(claude('slow-headers')), Anthropic.GatewayTimeoutError);
  assertAnthropicError(err, 504, 'timeout_error');
  assert.ok(Date.now() - started < SLOW_HEADERS_MS - 500, `took ${Date.now() - started} ms`);
});

test('upstream resets the connection → 502 InternalServerError api_error', async () => {
  const err = await rejectsAs(create(claude('reset')), Anthropic.InternalServerError);
  assertAnthropicError(err, 502, 'api_error');
});

test('upstream 429 on a streaming request → RateLimitError from messages.stream', async () => {
  const stream = stack.anthropic.messages.stream({ model: claude('fail-429'), max_tokens: 32, messages: userMessage('s') });
  const err = await rejectsAs(stream.finalMessage(), Anthropic.RateLimitError);
  assertAnthropicError(err, 429, 'rate_limit_error');
});

test('client abort mid-stream → the gateway closes its upstream connection within ~1 s', async () => {
  const marker = 'abort-anthropic-upstream';
  const controller = new AbortController();
  const stream = stack.anthropic.messages.stream(
    { model: claude('slow-stream'), max_tokens: 32, messages: userMessage(marker) },
    { signal: controller.signal },
  );
  let abortedAt = 0;
  const firstText = new Promise<void>((resolve) => stream.on('text', () => {
    if (!abortedAt) { abortedAt = Date.now(); controller.abort(); resolve(); }
  }));
  const outcome = stream.finalMessage().then(() => 'finished', (err) => err);
  await Promise.race([firstText, outcome]);
  assert.ok(abortedAt > 0, `received text before aborting (stream ended with: ${await Promise.race([outcome, 'pending'])})`);
  const ended = await outcome;
  assert.ok(ended instanceof Anthropic.APIUserAbortError, `aborting surfaces as APIUserAbortError, got ${ended}`);

  const sent = await stack.fake.waitFor((r) => JSON.stringify(r.body?.messages ?? []).includes(marker) && r.closedByPeerAt !== undefined, 3000)
    .catch(() => assert.fail('the upstream connection was not closed by the gateway within 3 s'));
  assert.ok(sent.closedByPeerAt! - abortedAt < 1000, `upstream closed ${sent.closedByPeerAt! - abortedAt} ms after the client aborted`);
  assert.equal(sent.completedAt, undefined, 'the upstream never finished its 5 s stream');
});

test('upstream silent mid-stream past upstream.idle_timeout_ms → messages.stream fails with an APIError timeout_error event', async () => {
  const marker = 'idle-anthropic-stream';
  const stream = stack.anthropic.messages.stream(
    { model: claude('stall-body'), max_tokens: 32, messages: userMessage(marker) },
    { headers: { 'x-request-id': marker } },
  );
  let text = '';
  stream.on('text', (delta) => { text += delta; });
  const started = Date.now();
  const ended = await stream.finalMessage().then(() => 'the stream ended without an error', (err) => err);
  const took = Date.now() - started;
  assert.equal(text, FAKE_TEXT_PIECES[0], 'the delta sent before the stall reached the client');
  // An `event: error` inside a 200 stream: the SDK's base APIError with no status and the error body.
  assert.ok(ended instanceof Anthropic.APIError && !(ended instanceof Anthropic.APIUserAbortError), `got: ${ended}`);
  assert.equal(ended.status, undefined);
  assert.equal(ended.type, 'timeout_error');
  const body = ended.error as any;
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'timeout_error');
  assert.match(body.error.message, /went silent/);
  assert.equal(body.request_id, marker);
  assert.ok(took >= IDLE_TIMEOUT_MS - 50 && took < STALL_MS - 500, `ended after ${took} ms`);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.error_class, 'timeout');
  assert.equal(line.error_code, 'GW_UPSTREAM_TIMEOUT');
  const upstream = await stack.fake.waitFor((r) => JSON.stringify(r.body?.messages ?? []).includes(marker) && r.closedByPeerAt !== undefined, 3000);
  assert.equal(upstream.completedAt, undefined, 'the gateway hung up on the stalled upstream');
});

test('upstream silent mid-body past upstream.idle_timeout_ms (non-streaming) → 504 GatewayTimeoutError timeout_error', async () => {
  const marker = 'idle-anthropic-json';
  const started = Date.now();
  const err = await rejectsAs(
    stack.anthropic.messages.create({ model: claude('stall-body'), max_tokens: 32, messages: userMessage(marker) }, { headers: { 'x-request-id': marker } }),
    Anthropic.GatewayTimeoutError,
  );
  const took = Date.now() - started;
  assertAnthropicError(err, 504, 'timeout_error');
  assert.equal(err.requestID, marker);
  assert.ok(took >= IDLE_TIMEOUT_MS - 50 && took < STALL_MS - 500, `answered after ${took} ms`);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.status, 504);
  assert.equal(line.error_code, 'GW_UPSTREAM_TIMEOUT');
  assert.equal(line.error_class, 'timeout');
});

test('a stream still flowing at upstream.total_timeout_ms → cut with an APIError timeout_error event naming the budget', async () => {
  const marker = 'total-anthropic-stream';
  const stream = await stack.anthropic.messages.create(
    { model: claude('slow-stream'), max_tokens: 32, messages: userMessage(marker), stream: true },
    { headers: { 'x-request-id': marker } },
  );
  let deltas = 0;
  const { ended, tookMs: took } = await readToEnd(stream, (event) => { if (event.type === 'content_block_delta') deltas++; });
  assert.ok(ended instanceof Anthropic.APIError && !(ended instanceof Anthropic.APIUserAbortError), `got: ${ended}`);
  assert.equal(ended.type, 'timeout_error');
  assert.match((ended.error as any).error.message, new RegExp(`no complete response within ${TOTAL_TIMEOUT_MS} ms`));
  assert.ok(deltas >= 10 && deltas < 25, `${deltas} deltas before the cut`);
  assert.ok(took < TOTAL_TIMEOUT_MS + 500, `cut ${took} ms after the stream opened`);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.error_class, 'timeout');
  assert.equal(line.error_code, 'GW_UPSTREAM_TIMEOUT');
});

test('upstream secrets never appear in any gateway log line or Anthropic error body', async () => {
  const bodies: string[] = [];
  for (const model of [claude('fail-401'), claude('fail-400'), claude('fail-500')]) {
    const res = await fetch(`${stack.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-request-id': `secret-check-${model}` },
      body: JSON.stringify({ model, max_tokens: 8, messages: userMessage('secret check') }),
    });
    assert.ok(res.status >= 400);
    bodies.push(await res.text());
  }
  bodies.forEach((body, i) => assertNoSecret(body, `error body #${i}`));
  await stack.gateway.waitForLog((r) => r.request_id === `secret-check-${claude('fail-401')}`, 3000);
  const lines = stack.gateway.logs();
  lines.forEach((line) => assertNoSecret(line, 'a gateway log line'));
  assertNoSecret(stack.gateway.stderr(), 'gateway stderr');
});
