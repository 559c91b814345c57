// Failures as a table over dialects. Each row is a fault with what the gateway must answer (status, GW_*
// code, error class, the Anthropic error type); it runs for each client SDK (`openai`, `@anthropic-ai/sdk`)
// against each upstream dialect (passthrough: the client's own; translated: the other), and the client must
// get the SDK's own error class in its dialect's shape, while the request's log line, the metrics and the
// usage ledger count the failure with its class. Beside the rows: idle and total timeouts, client aborts,
// faults inside a streamed answer, malformed JSON, hidden stream usage and secrets never leaking, each for
// both SDKs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { outcomeOf, type ErrorClass, type ErrorCode } from '../../src/core/errors.ts';
import {
  FAKE_BAD_REQUEST_MESSAGE, FAKE_RETRY_AFTER, FAKE_TEXT, FAKE_TEXT_PIECES, FAKE_USAGE, SLOW_HEADERS_MS, STALL_MS, startFakeUpstream,
  type FakeUpstream, type RecordedRequest,
} from '../helpers/fake-upstream.ts';
import { assertAnthropicError, assertNoSecret, assertOpenAIError } from '../helpers/errors.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { ledgerRow } from '../helpers/ledger.ts';
import { total } from '../helpers/scrape.ts';
import { CLIENT_KEY, claude, e2eConfig, oai, rejectsAs, userMessage } from '../helpers/stack.ts';

/**
 * Small upstream budgets so the timeout tests are quick; slow-stream's 100 ms ticks stay under the idle one.
 * undici runs the headers and idle (body) timers on its coarse "fast timers" (~0.5 s ticks), so a 300 ms idle
 * timeout fires after ~0.5–1.3 s; the total budget (a native timer, exact) stays clear of that.
 */
const HEADERS_TIMEOUT_MS = 500;
const IDLE_TIMEOUT_MS = 300;
const TOTAL_TIMEOUT_MS = 2000;
const DRAIN_MS = 300;
const BODY_LIMIT_BYTES = 2048;
const MALFORMED = '{"model": "mock-chat", "messages": [';

type ErrorType = abstract new (...args: any[]) => Error;

interface Row {
  fault: string;
  /** The fake upstream's behaviour; undefined for faults the gateway answers before any upstream call. */
  behaviour?: string;
  /** Overrides the model sent (then no upstream is involved). */
  model?: string;
  content?: string;
  status: number;
  code: ErrorCode;
  errorClass: ErrorClass;
  anthropicType: string;
  /** The SDK error class each client must raise. */
  openai: ErrorType;
  anthropic: ErrorType;
  /** Also run as a streaming request: the failure comes before the stream opens, so it is the same error. */
  streaming?: boolean;
  check?(err: any, tookMs: number): void;
}

const ROWS: Row[] = [
  {
    fault: 'unknown model', model: 'no-such-model', status: 404, code: 'GW_MODEL_NOT_FOUND', errorClass: 'invalid_request',
    anthropicType: 'not_found_error', openai: OpenAI.NotFoundError, anthropic: Anthropic.NotFoundError,
  },
  {
    fault: 'body over server.body_limit_bytes', model: 'mock-chat', content: 'x'.repeat(BODY_LIMIT_BYTES * 2), status: 413,
    code: 'GW_REQUEST_BODY_TOO_LARGE', errorClass: 'invalid_request', anthropicType: 'request_too_large', openai: OpenAI.APIError, anthropic: Anthropic.ContentTooLargeError,
  },
  {
    fault: 'upstream 500', behaviour: 'fail-500', status: 502, code: 'GW_UPSTREAM_SERVER_ERROR', errorClass: 'server_error',
    anthropicType: 'api_error', openai: OpenAI.InternalServerError, anthropic: Anthropic.InternalServerError, streaming: true,
  },
  {
    fault: 'upstream 429, retry-after preserved', behaviour: 'fail-429', status: 429, code: 'GW_UPSTREAM_RATE_LIMITED', errorClass: 'rate_limit',
    anthropicType: 'rate_limit_error', openai: OpenAI.RateLimitError, anthropic: Anthropic.RateLimitError, streaming: true,
    check: (err) => assert.equal(err.headers.get('retry-after'), FAKE_RETRY_AFTER),
  },
  {
    fault: 'upstream 400, carrying the upstream message', behaviour: 'fail-400', status: 400, code: 'GW_UPSTREAM_BAD_REQUEST', errorClass: 'invalid_request',
    anthropicType: 'invalid_request_error', openai: OpenAI.BadRequestError, anthropic: Anthropic.BadRequestError,
    check: (err) => assert.ok(err.message.includes(FAKE_BAD_REQUEST_MESSAGE), err.message),
  },
  {
    // The error body is checked for the key the upstream quoted (assertOpenAIError / assertAnthropicError).
    fault: 'upstream 401, the key it quoted not passed on', behaviour: 'fail-401', status: 502, code: 'GW_UPSTREAM_AUTH', errorClass: 'upstream_auth',
    anthropicType: 'api_error', openai: OpenAI.InternalServerError, anthropic: Anthropic.InternalServerError,
  },
  {
    fault: 'upstream slower than upstream.headers_timeout_ms, answered well before it does', behaviour: 'slow-headers', status: 504,
    code: 'GW_UPSTREAM_TIMEOUT', errorClass: 'timeout', anthropicType: 'timeout_error', openai: OpenAI.InternalServerError, anthropic: Anthropic.GatewayTimeoutError,
    check: (_err, tookMs) => assert.ok(tookMs < SLOW_HEADERS_MS - 500, `took ${tookMs} ms`),
  },
  {
    fault: 'upstream resets the connection', behaviour: 'reset', status: 502, code: 'GW_UPSTREAM_NETWORK', errorClass: 'network',
    anthropicType: 'api_error', openai: OpenAI.InternalServerError, anthropic: Anthropic.InternalServerError,
  },
  {
    fault: 'upstream silent mid-body past upstream.idle_timeout_ms', behaviour: 'stall-body', status: 504, code: 'GW_UPSTREAM_TIMEOUT', errorClass: 'timeout',
    anthropicType: 'timeout_error', openai: OpenAI.InternalServerError, anthropic: Anthropic.GatewayTimeoutError,
    check: (err, tookMs) => {
      assert.match(errorMessage(err), /went silent/);
      assert.ok(tookMs >= IDLE_TIMEOUT_MS - 50 && tookMs < STALL_MS - 500, `answered after ${tookMs} ms`);
    },
  },
];

/**
 * Faults inside a streamed answer: `stream-error` sends the first text piece, then an in-stream error event;
 * `truncated` ends the body after the text with no end marker; `json-for-stream` answers with one JSON object
 * and `html-200` with a proxy's 200 text/html page. An open stream (200) must end in an error event in the
 * client's dialect, an unopened one in a 502, and either is counted as the failure it is, never as a clean end.
 */
interface StreamRow { behaviour: string; code: ErrorCode; errorClass: ErrorClass; opened: boolean; text: string }
const STREAM_ROWS: StreamRow[] = [
  { behaviour: 'stream-error', code: 'GW_UPSTREAM_SERVER_ERROR', errorClass: 'server_error', opened: true, text: FAKE_TEXT_PIECES[0] },
  { behaviour: 'truncated', code: 'GW_UPSTREAM_PROTOCOL', errorClass: 'protocol', opened: true, text: FAKE_TEXT },
  { behaviour: 'json-for-stream', code: 'GW_UPSTREAM_PROTOCOL', errorClass: 'protocol', opened: false, text: '' },
  { behaviour: 'html-200', code: 'GW_UPSTREAM_PROTOCOL', errorClass: 'protocol', opened: false, text: '' },
];

/** What ended an SDK stream, the text received before, and how long reading took. */
interface StreamOutcome { text: string; ended: unknown; tookMs: number }
interface CallOptions { requestId?: string; signal?: AbortSignal }

/** A client's path to an upstream: the gateway model of a fake behaviour there, and that provider's id. */
type Upstream = [path: 'passthrough' | 'translated', model: (behaviour: string) => string, provider: string];
/** Per client dialect: the upstream that speaks it (passthrough), then the other (translated). */
const UPSTREAMS: Record<'openai' | 'anthropic', Upstream[]> = {
  openai: [['passthrough', oai, 'fake-openai'], ['translated', claude, 'fake-anthropic']],
  anthropic: [['passthrough', claude, 'fake-anthropic'], ['translated', oai, 'fake-openai']],
};

/** One client SDK, behind the few operations the table needs. */
interface Client {
  name: 'openai' | 'anthropic';
  path: string;
  /** The gateway model of `behaviour` on the upstream that speaks this client's dialect, then on the other. */
  upstreams: Upstream[];
  create(model: string, content: string, options?: CallOptions): Promise<unknown>;
  /** Through the SDK's streaming helper; `onText` sees each text delta as it arrives. */
  stream(model: string, content: string, options?: CallOptions & { onText?: (text: string) => void }): Promise<StreamOutcome>;
  errorOf(row: Row): ErrorType;
  assertError(err: any, row: Row): void;
  /** An error event inside an open (200) stream: the SDK's base APIError with no status, in this dialect's shape. */
  assertStreamError(ended: unknown, code: ErrorCode, anthropicType: string, requestId: string): void;
  /** A client whose requests go through `fetch`. */
  withFetch(fetch: typeof globalThis.fetch): Client;
  APIUserAbortError: ErrorType;
  BadRequestError: ErrorType;
  /** Asserts a raw error body is in this dialect's shape. */
  assertRawBody(body: any, code: ErrorCode): void;
  rawHeaders: Record<string, string>;
}

/** The message an error carries: the OpenAI SDK's own, or the Anthropic body's. */
function errorMessage(err: any): string {
  return err instanceof Anthropic.APIError ? (err.error as any)?.error?.message : err.message;
}

let fake: FakeUpstream;
let gateway: Gateway;
let dataDir: string;

function openaiClient(fetch?: typeof globalThis.fetch): Client {
  const sdk = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000, ...(fetch ? { fetch } : {}) });
  const opts = (o: CallOptions = {}) => ({ signal: o.signal, headers: o.requestId ? { 'x-request-id': o.requestId } : {} });
  return {
    name: 'openai',
    path: '/v1/chat/completions',
    upstreams: UPSTREAMS.openai,
    create: (model, content, o) => sdk.chat.completions.create({ model, messages: userMessage(content) }, opts(o)),
    async stream(model, content, o = {}) {
      // The streaming helper reports a user abort as APIUserAbortError: the raw `create({ stream: true })`
      // iterator of openai 7.x ends silently on it, so there an abort and a stream the gateway ended look alike.
      const started = Date.now();
      let text = '';
      let ended: unknown = 'the stream ended without an error';
      try {
        const stream = sdk.chat.completions.stream({ model, messages: userMessage(content) }, opts(o));
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta.content;
          if (delta) { text += delta; o.onText?.(delta); }
        }
      } catch (err) {
        ended = err;
      }
      return { text, ended, tookMs: Date.now() - started };
    },
    errorOf: (row) => row.openai,
    assertError: (err, row) => assertOpenAIError(err, row.status, row.code),
    assertStreamError(ended, code) {
      assert.ok(ended instanceof OpenAI.APIError && !(ended instanceof OpenAI.APIUserAbortError), `got: ${ended}`);
      assert.equal(ended.status, undefined);
      assert.equal(ended.code, code);
      assert.equal(ended.type, 'server_error');
    },
    withFetch: (f) => openaiClient(f),
    APIUserAbortError: OpenAI.APIUserAbortError,
    BadRequestError: OpenAI.BadRequestError,
    assertRawBody(body, code) {
      assert.equal(body.error?.code, code);
      assert.equal(typeof body.error?.message, 'string');
      assert.equal(typeof body.error?.type, 'string');
      assert.ok('param' in body.error);
    },
    rawHeaders: {},
  };
}

function anthropicClient(fetch?: typeof globalThis.fetch): Client {
  const sdk = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20_000, ...(fetch ? { fetch } : {}) });
  const opts = (o: CallOptions = {}) => ({ signal: o.signal, headers: o.requestId ? { 'x-request-id': o.requestId } : {} });
  const params = (model: string, content: string) => ({ model, max_tokens: 32, messages: userMessage(content) });
  return {
    name: 'anthropic',
    path: '/v1/messages',
    upstreams: UPSTREAMS.anthropic,
    create: (model, content, o) => sdk.messages.create(params(model, content), opts(o)),
    async stream(model, content, o = {}) {
      const started = Date.now();
      let text = '';
      const stream = sdk.messages.stream(params(model, content), opts(o));
      stream.on('text', (delta) => { text += delta; o.onText?.(delta); });
      const ended = await stream.finalMessage().then(() => 'the stream ended without an error', (err) => err);
      return { text, ended, tookMs: Date.now() - started };
    },
    errorOf: (row) => row.anthropic,
    assertError: (err, row) => assertAnthropicError(err, row.status, row.anthropicType),
    assertStreamError(ended, _code, anthropicType, requestId) {
      assert.ok(ended instanceof Anthropic.APIError && !(ended instanceof Anthropic.APIUserAbortError), `got: ${ended}`);
      assert.equal(ended.status, undefined);
      assert.equal(ended.type, anthropicType);
      const body = ended.error as any;
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, anthropicType);
      assert.equal(body.request_id, requestId);
    },
    withFetch: (f) => anthropicClient(f),
    APIUserAbortError: Anthropic.APIUserAbortError,
    BadRequestError: Anthropic.BadRequestError,
    assertRawBody(body) {
      assert.equal(body.type, 'error');
      assert.equal(body.error?.type, 'invalid_request_error');
      assert.equal(typeof body.error?.message, 'string');
      assert.equal(typeof body.request_id, 'string');
    },
    rawHeaders: { 'anthropic-version': '2023-06-01' },
  };
}

before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-failures-'));
  const config = e2eConfig(fake.url, {
    server: { body_limit_bytes: BODY_LIMIT_BYTES },
    // A client that leaves mid-stream has its upstream read on for its usage, here for 300 ms at most
    // (test/e2e/disconnect-drain.test.ts covers drains that reach the end).
    upstream: { headers_timeout_ms: HEADERS_TIMEOUT_MS, idle_timeout_ms: IDLE_TIMEOUT_MS, total_timeout_ms: TOTAL_TIMEOUT_MS, disconnect_drain: { max_ms: DRAIN_MS } },
  });
  config.store = { flush_interval_ms: 50 };
  gateway = await startGateway(config, { VIGIL_DATA_DIR: dataDir });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const CLIENTS = [openaiClient, anthropicClient];
const scrape = async () => (await fetch(`${gateway.url}/metrics`)).text();
/** The requests the fake upstream got whose messages carry `marker` (in either dialect's message shape). */
const carries = (marker: string) => (r: RecordedRequest) => JSON.stringify(r.body?.messages ?? []).includes(marker);

/** The log line, metrics and usage row of one failed upstream call. */
async function assertCounted(requestId: string, row: Row, provider: string, model: string, before: string, stream: boolean): Promise<void> {
  const line = await gateway.waitForLog((r) => r.request_id === requestId);
  assert.deepEqual([line.status, line.error_code, line.error_class], [row.status, row.code, row.errorClass], 'the log line');
  const after = await scrape();
  const delta = (labels: Record<string, string>) => total(after, 'vigil_llm_call_errors_total', labels) - total(before, 'vigil_llm_call_errors_total', labels);
  assert.equal(delta({ provider, model, error_class: row.errorClass }), 1, 'vigil_llm_call_errors_total');
  const usage = await ledgerRow(dataDir, requestId);
  assert.deepEqual(
    pick(usage, ['provider', 'model', 'upstream_model', 'status', 'error_class', 'stream', 'input_tokens', 'output_tokens']),
    { provider, model, upstream_model: row.behaviour, status: row.status, error_class: row.errorClass, stream: stream ? 1 : 0, input_tokens: 0, output_tokens: 0 },
    'the usage row',
  );
}

const pick = (row: Record<string, any>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));

for (const makeClient of CLIENTS) {
  const name = makeClient === openaiClient ? 'openai' as const : 'anthropic' as const;

  for (const row of ROWS) {
    if (!row.behaviour) {
      test(`${name} SDK: ${row.fault} → ${row.status} ${row.code}`, async () => {
        const client = makeClient();
        const requestId = `${name}-${row.code}`;
        const started = Date.now();
        const err = await rejectsAs(client.create(row.model!, row.content ?? 'hello', { requestId }), client.errorOf(row));
        client.assertError(err, row);
        row.check?.(err, Date.now() - started);
        const line = await gateway.waitForLog((r) => r.request_id === requestId);
        assert.deepEqual([line.status, line.error_code, line.error_class], [row.status, row.code, row.errorClass]);
      });
      continue;
    }
    for (const stream of row.streaming ? [false, true] : [false]) {
      for (const [path, modelOf, provider] of UPSTREAMS[name]) {
        test(`${name} SDK, ${path}${stream ? ', streaming' : ''}: ${row.fault} → ${row.status} ${row.code}, counted as ${row.errorClass}`, async () => {
          const client = makeClient();
          const model = modelOf(row.behaviour!);
          const requestId = `${name}-${path}-${stream ? 'stream' : 'json'}-${row.behaviour}`;
          const before = await scrape();
          const started = Date.now();
          const call = stream
            ? client.stream(model, requestId, { requestId }).then(({ text, ended }) => {
              assert.equal(text, '', 'no chunk before the failure');
              throw ended;
            })
            : client.create(model, requestId, { requestId });
          const err = await rejectsAs(call, client.errorOf(row));
          client.assertError(err, row);
          assert.equal((err as any).requestID, requestId);
          row.check?.(err, Date.now() - started);
          await assertCounted(requestId, row, provider, model, before, stream);
        });
      }
    }
  }

  for (const fault of STREAM_ROWS) {
    for (const [path, modelOf, provider] of UPSTREAMS[name]) {
      test(`${name} SDK, ${path}, ${fault.behaviour}: ${fault.opened ? 'an error event ends the open stream' : 'a 502 before the stream opens'} with ${fault.code}, counted as ${fault.errorClass}`, async () => {
        const client = makeClient();
        const model = modelOf(fault.behaviour);
        const marker = `${name}-${path}-${fault.behaviour}`;
        const before = await scrape();
        const { text, ended } = await client.stream(model, marker, { requestId: marker });
        assert.equal(text, fault.text);
        const anthropicType = 'api_error';
        if (fault.opened) {
          client.assertStreamError(ended, fault.code, anthropicType, marker);
        } else {
          const row = { status: 502, code: fault.code, anthropicType } as Row;
          assert.ok(ended instanceof (name === 'openai' ? OpenAI.InternalServerError : Anthropic.InternalServerError), `a 502 before the stream opened, got: ${ended}`);
          client.assertError(ended, row);
          assert.equal((ended as any).headers.get('content-type'), 'application/json');
          if (name === 'anthropic') assert.equal((ended as any).error.request_id, marker);
        }
        if (name === 'openai') assert.deepEqual([(ended as any).code, (ended as any).type], [fault.code, 'server_error']);

        const line = await gateway.waitForLog((r) => r.request_id === marker);
        assert.deepEqual([line.status, line.error_code, line.error_class], [fault.opened ? 200 : 502, fault.code, fault.errorClass], 'the log line');
        const after = await scrape();
        const delta = (metric: string, labels: Record<string, string>) => total(after, metric, labels) - total(before, metric, labels);
        assert.equal(delta('vigil_llm_calls_total', { provider, model, outcome: outcomeOf({ errorClass: fault.errorClass }) }), 1, 'vigil_llm_calls_total with the failure\'s side');
        assert.equal(delta('vigil_llm_call_errors_total', { provider, model, error_class: fault.errorClass }), 1, 'vigil_llm_call_errors_total');
        assert.equal(delta('vigil_llm_calls_total', { provider, model, outcome: 'success' }), 0, 'not counted a success');
        const usage = await ledgerRow(dataDir, marker);
        assert.deepEqual(
          pick(usage, ['provider', 'model', 'status', 'error_class', 'stream']),
          { provider, model, status: fault.opened ? 200 : 502, error_class: fault.errorClass, stream: 1 },
        );
      });
    }
  }

  for (const [path, modelOf] of UPSTREAMS[name]) {
    test(`${name} SDK, ${path}: upstream silent mid-stream past upstream.idle_timeout_ms → the stream ends in a GW_UPSTREAM_TIMEOUT error event; the stalled upstream is hung up on`, async () => {
      const client = makeClient();
      const marker = `${name}-${path}-idle-stream`;
      const { text, ended, tookMs } = await client.stream(modelOf('stall-body'), marker, { requestId: marker });
      assert.equal(text, FAKE_TEXT_PIECES[0], 'the text sent before the stall reached the client');
      client.assertStreamError(ended, 'GW_UPSTREAM_TIMEOUT', 'timeout_error', marker);
      assert.match(errorMessage(ended), /went silent/);
      assert.ok(tookMs >= IDLE_TIMEOUT_MS - 50 && tookMs < STALL_MS - 500, `ended after ${tookMs} ms`);
      const line = await gateway.waitForLog((r) => r.request_id === marker);
      assert.deepEqual([line.error_class, line.error_code], ['timeout', 'GW_UPSTREAM_TIMEOUT']);
      const upstream = await fake.waitFor((r) => carries(marker)(r) && r.closedByPeerAt !== undefined, 3000);
      assert.equal(upstream.completedAt, undefined, 'the gateway hung up on the stalled upstream');
    });

    test(`${name} SDK, ${path}: a stream still flowing at upstream.total_timeout_ms → cut with a GW_UPSTREAM_TIMEOUT error event naming the budget`, async () => {
      const client = makeClient();
      const marker = `${name}-${path}-total-stream`;
      let deltas = 0;
      const { ended, tookMs } = await client.stream(modelOf('slow-stream'), marker, { requestId: marker, onText: () => void deltas++ });
      client.assertStreamError(ended, 'GW_UPSTREAM_TIMEOUT', 'timeout_error', marker);
      assert.match(errorMessage(ended), new RegExp(`no complete response within ${TOTAL_TIMEOUT_MS} ms`));
      // The 100 ms ticks kept the idle timer quiet: it was the whole-call budget.
      assert.ok(deltas >= 10 && deltas < 25, `${deltas} deltas before the cut`);
      assert.ok(tookMs < TOTAL_TIMEOUT_MS + 500, `cut ${tookMs} ms after the stream opened`);
      const line = await gateway.waitForLog((r) => r.request_id === marker);
      assert.deepEqual([line.error_class, line.error_code], ['timeout', 'GW_UPSTREAM_TIMEOUT']);
    });

    test(`${name} SDK, ${path}: client abort mid-stream → APIUserAbortError; the upstream is read on until the drain cap, then closed, the request logged as a capped drain`, async () => {
      const client = makeClient();
      const marker = `${name}-${path}-abort-stream`;
      const controller = new AbortController();
      let abortedAt = 0;
      let deltas = 0;
      const { ended } = await client.stream(modelOf('slow-stream'), marker, {
        requestId: marker, signal: controller.signal,
        onText: () => {
          deltas++;
          if (!abortedAt) { abortedAt = Date.now(); controller.abort(); }
        },
      });
      assert.ok(abortedAt > 0, 'received text before aborting');
      assert.ok(ended instanceof client.APIUserAbortError, `aborting surfaces as APIUserAbortError, got: ${ended}`);
      assert.ok(deltas < 5, `the stream stopped after the abort (${deltas} deltas)`);
      const sent = await fake.waitFor((r) => carries(marker)(r) && r.closedByPeerAt !== undefined, 3000)
        .catch(() => assert.fail('the upstream connection was not closed by the gateway within 3 s'));
      assert.ok(sent.closedByPeerAt! - abortedAt >= DRAIN_MS - 50, `read on for the drain: closed ${sent.closedByPeerAt! - abortedAt} ms after the abort`);
      assert.equal(sent.completedAt, undefined, 'the upstream never finished its 5 s stream');
      const line = await gateway.waitForLog((r) => r.request_id === marker, 3000);
      assert.deepEqual([line.status, line.error_class, line.drain], [499, 'client_abort', 'capped']);
    });

    test(`${name} SDK, ${path}: client abort before the upstream answers → the upstream call is cancelled, the request logged as 499 client_abort`, async () => {
      const client = makeClient();
      const marker = `${name}-${path}-abort-waiting`;
      const controller = new AbortController();
      const call = client.create(modelOf('slow-headers'), marker, { requestId: marker, signal: controller.signal });
      await fake.waitFor(carries(marker), 3000);
      const abortedAt = Date.now();
      controller.abort();
      await rejectsAs(call, client.APIUserAbortError);
      // Well before the headers timeout that would also end the call.
      const sent = await fake.waitFor((r) => carries(marker)(r) && r.closedByPeerAt !== undefined, 3000);
      assert.ok(sent.closedByPeerAt! - abortedAt < 300, `upstream closed ${sent.closedByPeerAt! - abortedAt} ms after the client aborted`);
      const line = await gateway.waitForLog((r) => r.request_id === marker, 3000);
      assert.deepEqual([line.status, line.error_class], [499, 'client_abort']);
    });
  }

  test(`${name} SDK: malformed JSON → 400 GW_REQUEST_MALFORMED_JSON in the dialect's shape, raw and as the SDK parses it, with the request id`, async () => {
    const raw = await fetch(`${gateway.url}${makeClient().path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...makeClient().rawHeaders }, body: MALFORMED });
    assert.equal(raw.status, 400);
    makeClient().assertRawBody(await raw.json(), 'GW_REQUEST_MALFORMED_JSON');

    // The SDK always serialises valid JSON; a custom fetch swaps the body on its way out, so the error is
    // parsed by the SDK's own response handling.
    const sent: string[] = [];
    const client = makeClient().withFetch((url, init) => { sent.push(String(url)); return fetch(url, { ...init, body: MALFORMED }); });
    const marker = `malformed-${name}-sdk`;
    const row = { status: 400, code: 'GW_REQUEST_MALFORMED_JSON', anthropicType: 'invalid_request_error' } as Row;
    const err: any = await rejectsAs(client.create('mock-chat', 'hi', { requestId: marker }), client.BadRequestError);
    assert.deepEqual(sent, [`${gateway.url}${client.path}`]);
    client.assertError(err, row);
    assert.equal(err.requestID, marker, 'the request-id header the SDK reads');
    assert.equal(err.headers.get('x-request-id'), marker);
    if (name === 'openai') assert.equal(err.type, 'invalid_request_error');
    else assert.equal(err.error.request_id, marker);
    assert.match(errorMessage(err), /not valid JSON/);
    const line = await gateway.waitForLog((r) => r.request_id === marker);
    assert.deepEqual([line.status, line.error_code, line.error_class], [400, 'GW_REQUEST_MALFORMED_JSON', 'invalid_request']);

    // Without an id of its own the client still gets one, in the header the SDK reads.
    const generated: any = await rejectsAs(client.create('mock-chat', 'hi'), client.BadRequestError);
    client.assertError(generated, row);
    assert.ok(generated.requestID && generated.requestID.length >= 8 && generated.requestID !== marker, `generated id: ${generated.requestID}`);
  });

  test(`${name} SDK: upstream secrets never appear in any error body, log line or stderr`, async () => {
    const client = makeClient();
    const bodies: string[] = [];
    const models = ['no-such-model', ...client.upstreams.flatMap(([, modelOf]) => ['fail-401', 'fail-400', 'fail-500'].map(modelOf))];
    for (const model of models) {
      const res = await fetch(`${gateway.url}${client.path}`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `secret-check-${name}-${model}`, ...client.rawHeaders },
        body: JSON.stringify({ model, max_tokens: 8, messages: userMessage('secret check') }),
      });
      assert.ok(res.status >= 400, `${model}: ${res.status}`);
      bodies.push(await res.text());
    }
    for (const [i, body] of bodies.entries()) assertNoSecret(body, `error body of ${models[i]}`);
    await gateway.waitForLog((r) => r.request_id === `secret-check-${name}-${models.at(-1)}`, 3000);
    const lines = gateway.logs();
    assert.ok(lines.length > 0);
    for (const line of lines) assertNoSecret(line, 'a gateway log line');
    assertNoSecret(gateway.stderr(), 'gateway stderr');
  });
}

for (const [path, model] of [['passthrough', oai('ok')], ['translated', claude('ok')]]) {
  test(`openai SDK, ${path}: a stream without include_usage hides the usage chunk, yet its row keeps the tokens`, async () => {
    const marker = `usage-hidden-${path}`;
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model, messages: userMessage(marker), stream: true }, { headers: { 'x-request-id': marker } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 4);
    assert.ok(chunks.every((c) => c.choices.length === 1 && !c.usage), 'the usage chunk the client did not ask for stayed hidden');
    if (path === 'passthrough') assert.equal(fake.requests.find(carries(marker))?.body?.stream_options?.include_usage, true, 'the gateway asked upstream for usage');
    const row = await ledgerRow(dataDir, marker);
    assert.deepEqual(
      pick(row, ['model', 'status', 'error_class', 'stream', 'input_tokens', 'output_tokens']),
      { model, status: 200, error_class: '', stream: 1, input_tokens: FAKE_USAGE.input, output_tokens: FAKE_USAGE.output },
    );
  });
}
