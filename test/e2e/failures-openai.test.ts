// Failures on the OpenAI surface, each seen through the `openai` SDK's own error classes with the GW_* code:
// caller mistakes, every upstream failure class, client abort mid-stream, and secrets never leaking.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FAKE_BAD_REQUEST_MESSAGE, FAKE_RETRY_AFTER, SLOW_HEADERS_MS } from '../helpers/fake-upstream.ts';
import { assertNoSecret, assertOpenAIError } from '../helpers/errors.ts';
import { oai, rejectsAs, startStack, userMessage, type Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => { stack = await startStack({ server: { body_limit_bytes: 2048 }, upstream: { headers_timeout_ms: 500 } }); });
after(async () => { await stack?.stop(); });

const chat = (model: string, extra: Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming> = {}) =>
  stack.openai.chat.completions.create({ model, messages: userMessage('hello'), ...extra });

test('malformed JSON → 400 GW_REQUEST_MALFORMED_JSON in the OpenAI shape', async () => {
  const res = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "mock-chat", "messages": [',
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error?.code, 'GW_REQUEST_MALFORMED_JSON');
  assert.equal(typeof body.error?.message, 'string');
  assert.equal(typeof body.error?.type, 'string');
  assert.ok('param' in body.error);
});

test('unknown model → 404 NotFoundError GW_MODEL_NOT_FOUND', async () => {
  const err = await rejectsAs(chat('no-such-model'), OpenAI.NotFoundError);
  assertOpenAIError(err, 404, 'GW_MODEL_NOT_FOUND');
});

test('body over server.body_limit_bytes → 413 GW_REQUEST_BODY_TOO_LARGE', async () => {
  const err = await rejectsAs(chat('mock-chat', { messages: userMessage('x'.repeat(5000)) }), OpenAI.APIError);
  assertOpenAIError(err, 413, 'GW_REQUEST_BODY_TOO_LARGE');
});

test('upstream 500 → 502 InternalServerError GW_UPSTREAM_SERVER_ERROR', async () => {
  const err = await rejectsAs(chat(oai('fail-500')), OpenAI.InternalServerError);
  assertOpenAIError(err, 502, 'GW_UPSTREAM_SERVER_ERROR');
});

test('upstream 500 on a streaming request → 502 before any chunk', async () => {
  const err = await rejectsAs(stack.openai.chat.completions.create({ model: oai('fail-500'), messages: userMessage('s'), stream: true }), OpenAI.InternalServerError);
  assertOpenAIError(err, 502, 'GW_UPSTREAM_SERVER_ERROR');
});

test('upstream 429 → 429 RateLimitError GW_UPSTREAM_RATE_LIMITED with retry-after preserved', async () => {
  const err = await rejectsAs(chat(oai('fail-429')), OpenAI.RateLimitError);
  assertOpenAIError(err, 429, 'GW_UPSTREAM_RATE_LIMITED');
  assert.equal(err.headers.get('retry-after'), FAKE_RETRY_AFTER);
});

test('upstream 400 → 400 BadRequestError GW_UPSTREAM_BAD_REQUEST carrying the upstream message', async () => {
  const err = await rejectsAs(chat(oai('fail-400')), OpenAI.BadRequestError);
  assertOpenAIError(err, 400, 'GW_UPSTREAM_BAD_REQUEST');
  assert.ok(err.message.includes(FAKE_BAD_REQUEST_MESSAGE), err.message);
});

test('upstream 401 → 502 GW_UPSTREAM_AUTH, and the key the upstream quoted is not passed on', async () => {
  const err = await rejectsAs(chat(oai('fail-401')), OpenAI.InternalServerError);
  assertOpenAIError(err, 502, 'GW_UPSTREAM_AUTH');
});

test('upstream slower than upstream.headers_timeout_ms → 504 GW_UPSTREAM_TIMEOUT, well before the upstream answers', async () => {
  const started = Date.now();
  const err = await rejectsAs(chat(oai('slow-headers')), OpenAI.InternalServerError);
  assertOpenAIError(err, 504, 'GW_UPSTREAM_TIMEOUT');
  assert.ok(Date.now() - started < SLOW_HEADERS_MS - 500, `took ${Date.now() - started} ms`);
});

test('upstream resets the connection → 502 GW_UPSTREAM_NETWORK', async () => {
  const err = await rejectsAs(chat(oai('reset')), OpenAI.InternalServerError);
  assertOpenAIError(err, 502, 'GW_UPSTREAM_NETWORK');
});

/** Streams the slow model, aborts via AbortController after the first content chunk; returns when it aborted. */
async function abortMidStream(marker: string): Promise<number> {
  const controller = new AbortController();
  const stream = await stack.openai.chat.completions.create(
    { model: oai('slow-stream'), messages: userMessage(marker), stream: true },
    { signal: controller.signal, headers: { 'x-request-id': marker } },
  );
  let abortedAt = 0;
  let contentChunks = 0;
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) contentChunks++;
      if (contentChunks === 1 && !abortedAt) {
        abortedAt = Date.now();
        controller.abort();
      }
    }
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIUserAbortError, `aborting surfaces as APIUserAbortError, got ${err}`);
  }
  assert.ok(abortedAt > 0, 'received a content chunk before aborting');
  assert.ok(contentChunks < 5, `the stream stopped after the abort (${contentChunks} content chunks)`);
  return abortedAt;
}

test('client abort mid-stream → the gateway closes its upstream connection within ~1 s', async () => {
  const marker = 'abort-openai-upstream';
  const abortedAt = await abortMidStream(marker);
  const sent = await stack.fake.waitFor((r) => r.body?.messages?.[0]?.content === marker && r.closedByPeerAt !== undefined, 3000)
    .catch(() => assert.fail('the upstream connection was not closed by the gateway within 3 s'));
  assert.ok(sent.closedByPeerAt! - abortedAt < 1000, `upstream closed ${sent.closedByPeerAt! - abortedAt} ms after the client aborted`);
  assert.equal(sent.completedAt, undefined, 'the upstream never finished its 5 s stream');
});

test('client abort mid-stream → the request still gets its one log line', async () => {
  const marker = 'abort-openai-log';
  await abortMidStream(marker);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker, 3000);
  assert.equal(typeof line.status, 'number');
});

test('client abort before the upstream answers → the upstream call is cancelled, the request logged as 499', async () => {
  const marker = 'abort-openai-waiting';
  const controller = new AbortController();
  const call = stack.openai.chat.completions.create(
    { model: oai('slow-headers'), messages: userMessage(marker) },
    { signal: controller.signal, headers: { 'x-request-id': marker } },
  );
  await stack.fake.waitFor((r) => r.body?.messages?.[0]?.content === marker, 3000);
  const abortedAt = Date.now();
  controller.abort();
  await rejectsAs(call, OpenAI.APIUserAbortError);
  // Well before the 500 ms headers timeout that would also end the call.
  const sent = await stack.fake.waitFor((r) => r.body?.messages?.[0]?.content === marker && r.closedByPeerAt !== undefined, 3000);
  assert.ok(sent.closedByPeerAt! - abortedAt < 300, `upstream closed ${sent.closedByPeerAt! - abortedAt} ms after the client aborted`);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker, 3000);
  assert.equal(line.status, 499);
  assert.equal(line.error_class, 'client_abort');
});

test('upstream secrets never appear in any gateway log line or error body', async () => {
  const bodies: string[] = [];
  for (const model of [oai('fail-401'), oai('fail-400'), oai('fail-500'), 'no-such-model']) {
    const res = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `secret-check-${model}` },
      body: JSON.stringify({ model, messages: userMessage('secret check') }),
    });
    assert.ok(res.status >= 400);
    bodies.push(await res.text());
  }
  bodies.forEach((body, i) => assertNoSecret(body, `error body #${i}`));
  await stack.gateway.waitForLog((r) => r.request_id === `secret-check-${oai('fail-401')}`, 3000);
  const lines = stack.gateway.logs();
  assert.ok(lines.length > 0);
  lines.forEach((line) => assertNoSecret(line, 'a gateway log line'));
  assertNoSecret(stack.gateway.stderr(), 'gateway stderr');
});
