// A request with several upstream attempts, through the real dispatch loop, transport, provider, encode and
// finish: counted, logged and billed once, every attempt counted and traced. The first attempt meets a
// retryable 503, and dispatch is allowed a second attempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ModelTarget, ReplyPort } from '../core/context.ts';
import { createOpenAIProvider } from '../providers/openai.ts';
import type { Provider } from '../providers/provider.ts';
import { createChatDispatch } from '../routing/dispatch.ts';
import { Upstreams } from '../routing/upstream.ts';
import { SqliteUsageLedger } from '../store/sqlite/usage-ledger.ts';
import { decodeOpenAIChat } from '../surfaces/openai-chat.ts';
import { createLogs } from '../telemetry/log.ts';
import { Recorder } from '../telemetry/metrics/record.ts';
import { createMetrics } from '../telemetry/metrics/registry.ts';
import type { SpanRecord } from '../telemetry/export/encode.ts';
import { createTracing } from '../telemetry/trace.ts';
import { ledgerRows } from '../../test/helpers/ledger.ts';
import { testContext } from '../../test/helpers/context.ts';
import { testAlias, testDeployment, testRouting } from '../../test/helpers/routing.ts';
import { encodeChat } from './encode.ts';
import { compose } from './endpoints.ts';
import { createFinish } from './finish.ts';

const ROUTE = '/v1/chat/completions';
const TARGET: ModelTarget = { name: 'fast', upstreamModel: 'gpt-4o-mini', providerId: 'up', deploymentId: 'test', type: 'chat', pricing: { input: 1, output: 2, cachedInput: 0.5, cacheWrite: 1.25 } };
const DEPLOYMENT = testDeployment(TARGET);
const ANSWER = {
  id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'second time lucky' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
};
const UPSTREAM_OPTIONS = { connect_timeout_ms: 2000, headers_timeout_ms: 5000, idle_timeout_ms: 5000, total_timeout_ms: 5000, queue_limit: 16, queue_timeout_ms: 5000, disconnect_drain: { max_ms: 5000, max_bytes: 1 << 20 } };

/** An OpenAI-compatible upstream that answers `statuses` in turn (503: an overload; 400: a bad request; 200: ANSWER). */
async function upstream(statuses: number[]) {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      seen.push(req.headers);
      const status = statuses[seen.length - 1] ?? 200;
      const body = status === 200 ? ANSWER : { error: { message: `status ${status}`, type: 'server_error' } };
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const upstreams = new Upstreams(UPSTREAM_OPTIONS);
  const provider = createOpenAIProvider({
    id: 'up', kind: 'openai-compatible', apiKey: undefined, headers: {}, unavailableReason: undefined,
    send: upstreams.bind(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, 2),
  });
  return {
    seen,
    providers: new Map<string, Provider>([['up', provider]]),
    async close() {
      await upstreams.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Everything finish writes to, real, with what each received. */
function telemetry() {
  const metrics = createMetrics();
  const recorder = new Recorder(metrics, { version: 't', commit: 't', models: [TARGET.name] });
  const lines: Record<string, any>[] = [];
  const logs = createLogs({ level: 'info', format: 'json', version: 't' }, new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  }));
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-attempts-'));
  const ledger = new SqliteUsageLedger({ dataDir, flushIntervalMs: 60_000, maxBatch: 100 });
  const spans: SpanRecord[] = [];
  const tracing = createTracing({ samplingRatio: 1, providerNames: new Map(), sink: { add: (span) => void spans.push(span), shutdown: async () => {} } });
  return {
    recorder, tracing, spans,
    finish: createFinish({ recorder, ledger, log: logs.requestLines() }),
    /** The value of one exposed sample, by its exact name and labels. */
    async sample(series: string): Promise<number | undefined> {
      const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    },
    async lines() {
      logs.flush();
      return lines.filter((l) => l.module === 'pipeline');
    },
    async rows() {
      await ledger.flush();
      return ledgerRows(dataDir);
    },
    close: () => ledger.close(),
  };
}

/** One chat request as server/app.ts builds it, with the JSON reply it got. */
function request(requestId: string, recorder: Recorder) {
  const sent: { status?: number; body?: string; headers?: Record<string, string> } = {};
  const reply: ReplyPort = {
    json(status, body, headers) { Object.assign(sent, { status, body: String(body), headers }); },
    startStream() {}, write() {}, end() {}, fail(error) { Object.assign(sent, { status: error.status }); }, started: false,
  };
  recorder.requestStarted(ROUTE);
  const body = { model: 'fast', messages: [{ role: 'user', content: 'try again' }] };
  const ctx = testContext({ requestId, route: ROUTE, reply, body, requestedModel: 'fast', target: DEPLOYMENT });
  ctx.alias = testAlias([DEPLOYMENT]);
  return { ctx, sent };
}

/** Dispatch on one deployment allowed `attempts` attempts. */
function dispatch(providers: Map<string, Provider>, attempts: number) {
  const alias = testAlias([DEPLOYMENT], { retry: { attempts } });
  const { routes, deps } = testRouting([alias], providers, { recorder: new Recorder(createMetrics(), { version: 't', commit: 't', models: [] }) });
  return createChatDispatch(routes, deps, decodeOpenAIChat);
}

test('two attempts (a 503, then an answer): one request counted, logged and billed; two attempt spans and LLM calls', async () => {
  const up = await upstream([503, 200]);
  const t = telemetry();
  try {
    const { ctx, sent } = request('two-attempts', t.recorder);
    ctx.span = t.tracing.startRequest(ctx);
    await compose([dispatch(up.providers, 2), encodeChat], t.finish)(ctx);

    assert.equal(sent.status, 200);
    assert.equal(JSON.parse(sent.body!).choices[0].message.content, 'second time lucky');
    assert.equal(ctx.attempts.length, 2);
    assert.deepEqual(ctx.attempts.map((a) => [a.status, a.error?.code]), [[503, 'GW_UPSTREAM_SERVER_ERROR'], [200, undefined]]);

    // The request, once.
    assert.equal(await t.sample(`vigil_http_requests_total{route="${ROUTE}",method="POST",status="200",outcome="success"}`), 1);
    assert.equal(await t.sample(`vigil_http_request_duration_seconds_count{route="${ROUTE}",method="POST"}`), 1);
    assert.equal(await t.sample(`vigil_gateway_overhead_seconds_count{route="${ROUTE}"}`), 1);
    // Each attempt: an LLM call with its own outcome, status and duration; tokens and spend from the one that answered.
    assert.equal(await t.sample('vigil_llm_calls_total{provider="up",model="fast",outcome="provider_error"}'), 1);
    assert.equal(await t.sample('vigil_llm_calls_total{provider="up",model="fast",outcome="success"}'), 1);
    assert.equal(await t.sample('vigil_llm_call_errors_total{provider="up",model="fast",error_class="server_error"}'), 1);
    assert.equal(await t.sample('vigil_upstream_responses_total{provider="up",code="503"}'), 1);
    assert.equal(await t.sample('vigil_upstream_responses_total{provider="up",code="200"}'), 1);
    assert.equal(await t.sample('vigil_llm_call_duration_seconds_count{provider="up",model="fast"}'), 2);
    assert.equal(await t.sample('vigil_llm_tokens_total{provider="up",model="fast",type="input"}'), 11);
    assert.equal(await t.sample('vigil_llm_tokens_total{provider="up",model="fast",type="output"}'), 4);

    // The overhead is the request's time minus both attempts' upstream time.
    const overhead = Number(sent.headers!['x-vigil-overhead-ms']);
    const upstreamMs = ctx.attempts[0].durationMs(0) + ctx.attempts[1].durationMs(0);
    assert.ok(overhead >= 0 && overhead + upstreamMs <= performance.now() - ctx.startedAt, `${overhead} ms overhead, ${upstreamMs} ms upstream`);

    // One request span; one CLIENT span per attempt, each the parent named in its own upstream call.
    const server = t.spans.filter((s) => s.kind === 'server');
    const clients = t.spans.filter((s) => s.kind === 'client');
    assert.equal(server.length, 1);
    assert.equal(clients.length, 2);
    assert.ok(clients.every((c) => c.parentSpanId === server[0].spanId));
    assert.deepEqual(clients.map((c) => c.attributes['http.response.status_code']), [503, 200]);
    assert.deepEqual(clients.map((c) => c.attributes['error.type']), ['server_error', undefined]);
    assert.deepEqual(up.seen.map((h) => String(h.traceparent).split('-')[2]), clients.map((c) => c.spanId));
    assert.equal(server[0].attributes['gen_ai.usage.input_tokens'], 11);
    assert.equal(server[0].error, undefined);

    // One log line and one usage record, with the answering attempt's usage and spend.
    const lines = await t.lines();
    assert.equal(lines.length, 1);
    assert.deepEqual([lines[0].status, lines[0].attempts, lines[0].input_tokens, lines[0].output_tokens], [200, 2, 11, 4]);
    const rows = await t.rows();
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.deepEqual([row.request_id, row.provider, row.input_tokens, row.output_tokens, row.status, row.error_class], ['two-attempts', 'up', 11, 4, 200, '']);
    assert.equal(row.cost_usd, (11 * 1 + 4 * 2) / 1e6);
  } finally {
    await Promise.all([up.close(), t.close()]);
  }
});

test('a failure that is not retryable ends the request at its first attempt, whatever the limit', async () => {
  const up = await upstream([400, 200]);
  const t = telemetry();
  try {
    const { ctx, sent } = request('one-attempt', t.recorder);
    await compose([dispatch(up.providers, 3), encodeChat], t.finish)(ctx);
    assert.equal(sent.status, 400);
    assert.equal(up.seen.length, 1);
    assert.equal(ctx.attempts.length, 1);
    assert.equal(await t.sample('vigil_llm_calls_total{provider="up",model="fast",outcome="caller_error"}'), 1);
    assert.equal((await t.rows()).length, 1);
  } finally {
    await Promise.all([up.close(), t.close()]);
  }
});
