// Failures on /v1/messages, in Anthropic's error shape and seen through `@anthropic-ai/sdk`'s error classes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { FAKE_BAD_REQUEST_MESSAGE, FAKE_RETRY_AFTER, SLOW_HEADERS_MS } from '../helpers/fake-upstream.ts';
import { assertAnthropicError, assertNoSecret } from '../helpers/errors.ts';
import { claude, rejectsAs, startStack, userMessage, type Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => { stack = await startStack({ server: { body_limit_bytes: 2048 }, upstream: { headers_timeout_ms: 500 } }); });
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
