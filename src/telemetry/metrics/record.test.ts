import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.ts';
import { CATALOG, HTTP_BUCKETS, LLM_BUCKETS } from './catalog.ts';
import { Recorder } from './record.ts';
import { createMetrics } from './registry.ts';
import { testContext } from '../../../test/helpers/context.ts';

const ROUTE = '/v1/chat/completions';

const context = () => testContext({ route: ROUTE });

function setup() {
  const metrics = createMetrics();
  const recorder = new Recorder(metrics, { version: '9.9.9', commit: 'abc123', models: ['mock-chat', 'gpt-4o'] });
  return { metrics, recorder, text: () => metrics.registry.metrics() };
}

/** The value of one sample line, by its exact name and label set as exposed. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('the registry exposes every catalog metric and only those', async () => {
  const { text } = setup();
  const exposition = await text();
  const families = [...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(families.sort(), Object.values(CATALOG).map((s) => [s.name, s.type]).sort());
  assert.equal(sample(exposition, `vigil_build_info{version="9.9.9",node_version="${process.versions.node}",commit="abc123"}`), 1);
});

test('a successful call: RED, LLM counters, token types, histograms and in-flight back to 0', async () => {
  const { recorder, text } = setup();
  recorder.requestStarted(ROUTE);
  recorder.requestStarted(ROUTE);
  assert.equal(sample(await text(), `vigil_http_requests_in_flight{route="${ROUTE}"}`), 2);

  const ctx = context();
  ctx.target = { name: 'mock-chat', upstreamModel: 'mock-chat', providerId: 'mock', deploymentId: 'test', type: 'chat' };
  const attempt = ctx.addAttempt(ctx.target);
  attempt.startedAt = 100; // ms after accept
  attempt.usage = { inputTokens: 120, outputTokens: 30, cachedInputTokens: 64 };
  recorder.requestFinished(ctx, 0.4);

  const failed = context();
  failed.target = { name: 'gpt-4o', upstreamModel: 'gpt-4o-2024-08-06', providerId: 'openai', deploymentId: 'test', type: 'chat' };
  failed.addAttempt(failed.target).startedAt = 5;
  failed.status = 502;
  failed.error = failed.attempt!.error = new GatewayError('GW_UPSTREAM_SERVER_ERROR', 'status 500');
  recorder.requestFinished(failed, 2);

  const out = await text();
  assert.equal(sample(out, `vigil_http_requests_in_flight{route="${ROUTE}"}`), 0);
  assert.equal(sample(out, `vigil_http_requests_total{route="${ROUTE}",method="POST",status="200",outcome="success"}`), 1);
  assert.equal(sample(out, `vigil_http_requests_total{route="${ROUTE}",method="POST",status="502",outcome="provider_error"}`), 1);
  assert.equal(sample(out, `vigil_http_request_duration_seconds_count{route="${ROUTE}",method="POST"}`), 2);
  assert.equal(sample(out, `vigil_http_request_duration_seconds_sum{route="${ROUTE}",method="POST"}`), 2.4);
  assert.equal(sample(out, `vigil_http_request_duration_seconds_bucket{le="0.5",route="${ROUTE}",method="POST"}`), 1);
  assert.equal(sample(out, `vigil_http_request_duration_seconds_bucket{le="2.5",route="${ROUTE}",method="POST"}`), 2);

  assert.equal(sample(out, 'vigil_llm_calls_total{provider="mock",model="mock-chat",outcome="success"}'), 1);
  assert.equal(sample(out, 'vigil_llm_calls_total{provider="openai",model="gpt-4o",outcome="provider_error"}'), 1);
  assert.equal(sample(out, 'vigil_llm_call_errors_total{provider="openai",model="gpt-4o",error_class="server_error"}'), 1);
  assert.equal(sample(out, 'vigil_llm_call_errors_total{provider="mock",model="mock-chat",error_class="ok"}'), undefined);
  assert.equal(sample(out, 'vigil_llm_tokens_total{provider="mock",model="mock-chat",type="input"}'), 120);
  assert.equal(sample(out, 'vigil_llm_tokens_total{provider="mock",model="mock-chat",type="output"}'), 30);
  assert.equal(sample(out, 'vigil_llm_tokens_total{provider="mock",model="mock-chat",type="cached_input"}'), 64);
  assert.equal(sample(out, 'vigil_llm_tokens_total{provider="openai",model="gpt-4o",type="input"}'), undefined);

  // upstream time = 0.4 s total − 0.1 s before the upstream call
  assert.ok(Math.abs(sample(out, 'vigil_llm_call_duration_seconds_sum{provider="mock",model="mock-chat"}')! - 0.3) < 1e-9);
  assert.equal(sample(out, 'vigil_llm_call_duration_seconds_bucket{le="0.25",provider="mock",model="mock-chat"}'), 0);
  assert.equal(sample(out, 'vigil_llm_call_duration_seconds_bucket{le="0.5",provider="mock",model="mock-chat"}'), 1);
  assert.equal(sample(out, 'vigil_llm_call_duration_seconds_count{provider="openai",model="gpt-4o"}'), 1);
});

test('models outside the configured set are recorded as "other"', async () => {
  const { recorder, text } = setup();
  recorder.requestStarted(ROUTE);
  const ctx = context();
  ctx.target = { name: 'someones-private-model', upstreamModel: 'x', providerId: 'openai', deploymentId: 'test', type: 'chat' };
  const attempt = ctx.addAttempt(ctx.target);
  attempt.startedAt = 0;
  attempt.usage = { inputTokens: 5, outputTokens: 0, cachedInputTokens: 0 };
  recorder.requestFinished(ctx, 0.01);
  const out = await text();
  assert.equal(sample(out, 'vigil_llm_calls_total{provider="openai",model="other",outcome="success"}'), 1);
  assert.equal(sample(out, 'vigil_llm_tokens_total{provider="openai",model="other",type="input"}'), 5);
  assert.doesNotMatch(out, /someones-private-model/);
});

test('a request that never reached an upstream records RED only', async () => {
  const { recorder, text } = setup();
  recorder.requestStarted(ROUTE);
  const ctx = context();
  ctx.status = 401;
  ctx.error = new GatewayError('GW_AUTH_MISSING_KEY');
  recorder.requestFinished(ctx, 0.002);
  const planned = context();
  planned.target = { name: 'mock-chat', upstreamModel: 'mock-chat', providerId: 'mock', deploymentId: 'test', type: 'chat' };
  planned.addAttempt(planned.target); // it never went out: startedAt stays -1
  recorder.requestStarted(ROUTE);
  recorder.requestFinished(planned, 0.003);
  const out = await text();
  assert.equal(sample(out, `vigil_http_requests_total{route="${ROUTE}",method="POST",status="401",outcome="caller_error"}`), 1);
  assert.equal(sample(out, `vigil_http_requests_total{route="${ROUTE}",method="POST",status="200",outcome="success"}`), 1);
  assert.equal(sample(out, `vigil_http_requests_in_flight{route="${ROUTE}"}`), 0);
  assert.doesNotMatch(out, /^vigil_llm_calls_total\{/m);
  assert.doesNotMatch(out, /^vigil_llm_call_duration_seconds_count\{/m);
});

test('requestServed records RED for routes outside the pipeline; buckets follow the catalog', async () => {
  const { recorder, text } = setup();
  recorder.requestServed('/metrics', 'GET', 200, 0.0007);
  recorder.requestServed('/metrics', 'GET', 200, 0.0007);
  recorder.requestServed('/readyz', 'GET', 503, 0.0007); // not ready: the gateway's side
  const out = await text();
  assert.equal(sample(out, 'vigil_http_requests_total{route="/metrics",method="GET",status="200",outcome="success"}'), 2);
  assert.equal(sample(out, 'vigil_http_requests_total{route="/readyz",method="GET",status="503",outcome="gateway_error"}'), 1);
  assert.equal(sample(out, 'vigil_http_request_duration_seconds_bucket{le="0.001",route="/metrics",method="GET"}'), 2);
  const les = [...out.matchAll(/^vigil_http_request_duration_seconds_bucket\{le="([^"]+)",route="\/metrics"/gm)].map((m) => m[1]);
  assert.deepEqual(les, [...HTTP_BUCKETS.map(String), '+Inf']);
  assert.deepEqual(CATALOG.llmDuration.buckets, LLM_BUCKETS);
  assert.equal(LLM_BUCKETS[0], 0.05);
  assert.equal(LLM_BUCKETS.at(-1), 120);
});

test('histograms: waiting per-bucket counts expose exactly what prom-client observing the values itself does', async () => {
  const { metrics, recorder } = setup();
  const direct = createMetrics();
  // On and between bounds, below the first, past the last (+Inf only), and a non-finite one dropped.
  const values = [0, 0.0005, 0.001, 0.0011, 0.05, 0.3, 1, 7.5, 29.9, 30, 31, 1e6, HTTP_BUCKETS[3], LLM_BUCKETS[5], Number.NaN];
  for (const [i, v] of values.entries()) {
    recorder.requestServed('/healthz', i % 2 ? 'GET' : 'POST', 200, v);
    if (Number.isFinite(v)) direct.instruments.httpDuration.labels('/healthz', i % 2 ? 'GET' : 'POST').observe(v);
  }
  const read = async (m: typeof metrics) => (await m.registry.getSingleMetric('vigil_http_request_duration_seconds')!.get()).values;
  assert.deepEqual(await read(metrics), await read(direct));
  // Read again after more observations: counts keep adding up across reads.
  recorder.requestServed('/healthz', 'GET', 200, 0.2);
  direct.instruments.httpDuration.labels('/healthz', 'GET').observe(0.2);
  assert.deepEqual(await read(metrics), await read(direct));
  const count = (await read(metrics)).find((v) => (v as { metricName?: string }).metricName === 'vigil_http_request_duration_seconds_count' && v.labels.method === 'GET');
  assert.equal(count?.value, 8);
});

test('past its series cap a metric folds new label sets into one all-"other" series, counted', async () => {
  const metrics = createMetrics();
  const recorder = new Recorder(metrics, { version: '1', commit: 'c', models: ['gpt-4o'], maxSeriesPerMetric: 2 });
  const ctx = context();
  ctx.target = { name: 'gpt-4o', upstreamModel: 'gpt-4o', providerId: 'openai', deploymentId: 'test', type: 'chat' };
  ctx.addAttempt(ctx.target).startedAt = 1;
  // Label values that a joined key could confuse ("a\0b" + "c" against "a" + "b\0c") stay apart.
  ctx.toolCalls = ['a\u0000b', 'c', 'd', 'a\u0000b'];
  recorder.requestFinished(ctx, 0.1);
  const out = await metrics.registry.metrics();
  const tools = (name: string) => sample(out, `vigil_llm_tool_calls_total{provider="openai",model="gpt-4o",tool="${name}"}`);
  assert.equal(tools('a\u0000b'), 2);
  assert.equal(tools('c'), 1);
  assert.equal(sample(out, 'vigil_llm_tool_calls_total{provider="other",model="other",tool="other"}'), 1);
  assert.equal(sample(out, 'vigil_metric_series_overflow_total{metric="vigil_llm_tool_calls_total"}'), 1);
});

test('requests by API from their route; a refused untranslatable field counted once, its indices folded', async () => {
  const { recorder, text } = setup();
  for (const [route, error] of [
    ['/v1/responses', new GatewayError('GW_REQUEST_UNSUPPORTED', 'no web search on anthropic', { param: 'tools[2].type' })],
    ['/v1/responses', new GatewayError('GW_REQUEST_UNSUPPORTED', 'no web search on anthropic', { param: 'tools[0].type' })],
    ['/v1/messages', undefined],
  ] as const) {
    recorder.requestStarted(route);
    const ctx = testContext({ route });
    if (error) {
      ctx.error = error;
      ctx.status = 400;
    }
    recorder.requestFinished(ctx, 0.001);
  }
  const out = await text();
  assert.equal(sample(out, 'vigil_api_requests_total{api="responses",outcome="caller_error"}'), 2);
  assert.equal(sample(out, 'vigil_api_requests_total{api="messages",outcome="success"}'), 1);
  assert.equal(sample(out, 'vigil_translation_refusals_total{field="tools[].type"}'), 2);
});
