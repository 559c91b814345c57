// Failures on the OpenAI surface, each seen through the `openai` SDK's own error classes with the GW_* code:
// caller mistakes, every upstream failure class, idle and total timeouts, client abort mid-stream, the usage
// records failures leave, and secrets never leaking.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import { FAKE_BAD_REQUEST_MESSAGE, FAKE_RETRY_AFTER, FAKE_TEXT_PIECES, FAKE_USAGE, SLOW_HEADERS_MS, STALL_MS } from '../helpers/fake-upstream.ts';
import { assertNoSecret, assertOpenAIError } from '../helpers/errors.ts';
import { startGateway } from '../helpers/gateway.ts';
import { CLIENT_KEY, e2eConfig, oai, readToEnd, rejectsAs, startStack, userMessage, type Stack } from '../helpers/stack.ts';

/**
 * Small upstream budgets so the timeout tests are quick; slow-stream's 100 ms ticks stay under the idle one.
 * undici runs the headers and idle (body) timers on its coarse "fast timers" (~0.5 s ticks), so a 300 ms idle
 * timeout fires after ~0.5–1.3 s; the total budget (a native timer, exact) stays clear of that.
 */
const IDLE_TIMEOUT_MS = 300;
const TOTAL_TIMEOUT_MS = 2000;
const MALFORMED = '{"model": "mock-chat", "messages": [';

let stack: Stack;
before(async () => {
  stack = await startStack({
    server: { body_limit_bytes: 2048 },
    upstream: { headers_timeout_ms: 500, idle_timeout_ms: IDLE_TIMEOUT_MS, total_timeout_ms: TOTAL_TIMEOUT_MS },
  });
});
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

test('malformed JSON sent by the openai SDK itself → BadRequestError GW_REQUEST_MALFORMED_JSON with the request id', async () => {
  // The SDK always serialises valid JSON; a custom fetch swaps the body on its way out, so the error is
  // parsed by the SDK's own response handling.
  const sent: string[] = [];
  const client = new OpenAI({
    baseURL: `${stack.gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0,
    fetch: (url, init) => { sent.push(String(url)); return fetch(url, { ...init, body: MALFORMED }); },
  });
  const marker = 'malformed-openai-sdk';
  const err = await rejectsAs(
    client.chat.completions.create({ model: 'mock-chat', messages: userMessage('hi') }, { headers: { 'x-request-id': marker } }),
    OpenAI.BadRequestError,
  );
  assert.deepEqual(sent, [`${stack.gateway.url}/v1/chat/completions`]);
  assertOpenAIError(err, 400, 'GW_REQUEST_MALFORMED_JSON');
  assert.equal(err.type, 'invalid_request_error');
  assert.equal(err.requestID, marker);
  assert.equal(err.headers.get('x-request-id'), marker);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.status, 400);
  assert.equal(line.error_code, 'GW_REQUEST_MALFORMED_JSON');
  assert.equal(line.error_class, 'invalid_request');

  // Without an id of its own the client still gets one, in the header the SDK reads.
  const generated = await rejectsAs(client.chat.completions.create({ model: 'mock-chat', messages: userMessage('hi') }), OpenAI.BadRequestError);
  assert.equal(generated.code, 'GW_REQUEST_MALFORMED_JSON');
  assert.ok(generated.requestID && generated.requestID.length >= 8 && generated.requestID !== marker, `generated id: ${generated.requestID}`);
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

/**
 * Streams the slow model, aborts via AbortController after the first content chunk; returns when it aborted.
 * Through the SDK's streaming helper (`chat.completions.stream`), which reports a user abort as
 * APIUserAbortError: the raw `create({ stream: true })` iterator of openai 7.x ends silently on it, so
 * there an abort and a stream the gateway merely ended look the same.
 */
async function abortMidStream(marker: string): Promise<number> {
  const controller = new AbortController();
  const stream = stack.openai.chat.completions.stream(
    { model: oai('slow-stream'), messages: userMessage(marker) },
    { signal: controller.signal, headers: { 'x-request-id': marker } },
  );
  let abortedAt = 0;
  let contentChunks = 0;
  const { ended } = await readToEnd(stream, (chunk) => {
    if (chunk.choices[0]?.delta.content) contentChunks++;
    if (contentChunks === 1 && !abortedAt) {
      abortedAt = Date.now();
      controller.abort();
    }
  });
  assert.ok(abortedAt > 0, 'received a content chunk before aborting');
  assert.ok(ended instanceof OpenAI.APIUserAbortError, `aborting surfaces as APIUserAbortError, got: ${ended}`);
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

test('upstream silent mid-stream past upstream.idle_timeout_ms → the stream ends in an APIError GW_UPSTREAM_TIMEOUT', async () => {
  const marker = 'idle-openai-stream';
  const stream = await stack.openai.chat.completions.create(
    { model: oai('stall-body'), messages: userMessage(marker), stream: true },
    { headers: { 'x-request-id': marker } },
  );
  let text = '';
  const { ended, tookMs: took } = await readToEnd(stream, (chunk) => { text += chunk.choices[0]?.delta.content ?? ''; });
  assert.equal(text, FAKE_TEXT_PIECES[0], 'the chunk sent before the stall reached the client');
  // An error event inside a 200 stream: the SDK's base APIError, no status, the gateway's error object.
  assert.ok(ended instanceof OpenAI.APIError && !(ended instanceof OpenAI.APIUserAbortError), `got: ${ended}`);
  assert.equal(ended.status, undefined);
  assert.equal(ended.code, 'GW_UPSTREAM_TIMEOUT');
  assert.equal(ended.type, 'server_error');
  assert.match(ended.message, /went silent/);
  assert.ok(took >= IDLE_TIMEOUT_MS - 50 && took < STALL_MS - 500, `ended ${took} ms after the first chunk`);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.error_class, 'timeout');
  assert.equal(line.error_code, 'GW_UPSTREAM_TIMEOUT');
  const upstream = await stack.fake.waitFor((r) => r.body?.messages?.[0]?.content === marker && r.closedByPeerAt !== undefined, 3000);
  assert.equal(upstream.completedAt, undefined, 'the gateway hung up on the stalled upstream');
});

test('upstream silent mid-body past upstream.idle_timeout_ms (non-streaming) → 504 InternalServerError GW_UPSTREAM_TIMEOUT', async () => {
  const marker = 'idle-openai-json';
  const started = Date.now();
  const err = await rejectsAs(
    stack.openai.chat.completions.create({ model: oai('stall-body'), messages: userMessage(marker) }, { headers: { 'x-request-id': marker } }),
    OpenAI.InternalServerError,
  );
  const took = Date.now() - started;
  assertOpenAIError(err, 504, 'GW_UPSTREAM_TIMEOUT');
  assert.match(err.message, /went silent/);
  assert.equal(err.requestID, marker);
  assert.ok(took >= IDLE_TIMEOUT_MS - 50 && took < STALL_MS - 500, `answered after ${took} ms`);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.status, 504);
  assert.equal(line.error_class, 'timeout');
});

test('a stream still flowing at upstream.total_timeout_ms → cut with an APIError GW_UPSTREAM_TIMEOUT naming the budget', async () => {
  const marker = 'total-openai-stream';
  const stream = await stack.openai.chat.completions.create(
    { model: oai('slow-stream'), messages: userMessage(marker), stream: true },
    { headers: { 'x-request-id': marker } },
  );
  let ticks = 0;
  const { ended, tookMs: took } = await readToEnd(stream, (chunk) => { if (chunk.choices[0]?.delta.content) ticks++; });
  assert.ok(ended instanceof OpenAI.APIError && !(ended instanceof OpenAI.APIUserAbortError), `got: ${ended}`);
  assert.equal(ended.code, 'GW_UPSTREAM_TIMEOUT');
  assert.match(ended.message, new RegExp(`no complete response within ${TOTAL_TIMEOUT_MS} ms`));
  // The 100 ms ticks kept the idle timer quiet: it was the whole-call budget.
  assert.ok(ticks >= 10 && ticks < 25, `${ticks} ticks before the cut`);
  assert.ok(took < TOTAL_TIMEOUT_MS + 500, `cut ${took} ms after the stream opened`);
  const line = await stack.gateway.waitForLog((r) => r.request_id === marker);
  assert.equal(line.error_class, 'timeout');
  assert.equal(line.error_code, 'GW_UPSTREAM_TIMEOUT');
});

test('usage records: upstream 500 and 429 rows carry the status, error class and request id the client saw; a stream with hidden usage keeps its tokens', async (t) => {
  // A gateway of its own with a known data dir, stopped before reading so every queued record is written.
  const dataDir = await mkdtemp(join(tmpdir(), 'vigil-usage-failures-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const gateway = await startGateway(e2eConfig(stack.fake.url), { VIGIL_DATA_DIR: dataDir });
  t.after(() => gateway.stop());
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });

  const failed500 = await rejectsAs(client.chat.completions.create({ model: oai('fail-500'), messages: userMessage('500') }), OpenAI.InternalServerError);
  const failed429 = await rejectsAs(client.chat.completions.create({ model: oai('fail-429'), messages: userMessage('429') }), OpenAI.RateLimitError);
  const marker = 'usage-hidden-stream';
  const stream = await client.chat.completions.create({ model: oai('ok'), messages: userMessage('stream'), stream: true }, { headers: { 'x-request-id': marker } });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(chunks.length >= 4);
  assert.ok(chunks.every((c) => c.choices.length === 1 && !c.usage), 'the usage chunk the client did not ask for stayed hidden');
  assert.equal(stack.fake.requests.at(-1)?.body?.stream_options?.include_usage, true, 'the gateway asked upstream for usage');
  await gateway.stop();

  const db = new DatabaseSync(join(dataDir, 'vigil.db'), { readOnly: true });
  const rows = db.prepare('SELECT * FROM usage_records ORDER BY time').all() as Record<string, any>[];
  db.close();
  const row = (requestId: string | null | undefined) => {
    const found = rows.filter((r) => r.request_id === requestId);
    assert.equal(found.length, 1, `one usage row for request ${requestId} (rows: ${JSON.stringify(rows)})`);
    return found[0];
  };
  assert.equal(rows.length, 3);
  assert.ok(failed500.requestID && failed429.requestID && failed500.requestID !== failed429.requestID);
  assert.deepEqual(
    pick(row(failed500.requestID), ['provider', 'model', 'upstream_model', 'status', 'error_class', 'stream', 'input_tokens', 'output_tokens']),
    { provider: 'fake-openai', model: oai('fail-500'), upstream_model: 'fail-500', status: 502, error_class: 'server_error', stream: 0, input_tokens: 0, output_tokens: 0 },
  );
  assert.deepEqual(
    pick(row(failed429.requestID), ['model', 'status', 'error_class']),
    { model: oai('fail-429'), status: 429, error_class: 'rate_limit' },
  );
  assert.equal(failed500.status, 502);
  assert.equal(failed429.status, 429);
  assert.deepEqual(
    pick(row(marker), ['model', 'status', 'error_class', 'stream', 'input_tokens', 'output_tokens']),
    { model: oai('ok'), status: 200, error_class: '', stream: 1, input_tokens: FAKE_USAGE.input, output_tokens: FAKE_USAGE.output },
  );
});

const pick = (row: Record<string, any>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));

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
