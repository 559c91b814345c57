// Every catalog metric moves as it should when traffic takes the code path it describes: values, not
// just presence. One gateway, keyed, with priced mock models, a paced streaming model and an unusable provider.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { rejectsAs, userMessage } from '../helpers/stack.ts';

const KEY = 'vk-metrics-test';
let gateway: Gateway;
let openai: OpenAI;

test.before(async () => {
  gateway = await startGateway({
    auth: { keys: [{ id: 'team-a', key: KEY }] },
    metrics: { identity_cost: true, max_series_per_metric: 6 },
    slo: { window_seconds: 60, latency_budget_ms: 50 },
    store: { flush_interval_ms: 50 },
    providers: {
      mock: { kind: 'mock', completion_tokens: 5 },
      paced: { kind: 'mock', completion_tokens: 8, stream_tokens_per_second: 50 },
      flaky: { kind: 'mock', error_rates: { rate_limit: 1 } },
      broken: { kind: 'openai', api_key: 'env:VIGIL_METRICS_TEST_UNSET' },
    },
    models: [
      { name: 'mock-chat', provider: 'mock', pricing: { input_per_mtok: 1000, output_per_mtok: 2000 } },
      { name: 'paced-chat', provider: 'paced' },
      { name: 'flaky-chat', provider: 'flaky' },
      { name: 'broken-chat', provider: 'broken' },
      { name: 'mock-embedding', provider: 'mock', type: 'embedding' },
    ],
  });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
});
test.after(() => gateway.stop());

async function scrape(): Promise<string> {
  return (await fetch(`${gateway.url}/metrics`)).text();
}

/** The value of one series, by metric name and label subset; sums over matching series. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  assert.ok(found, `no series ${name}${JSON.stringify(labels)}`);
  return total;
}

test('HTTP RED, in-flight, overhead histogram and header', async () => {
  const before = await scrape();
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-chat', messages: userMessage('hello') }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('x-vigil-overhead-ms') ?? '', /^\d+\.\d{3}$/);
  await res.json();
  const after = await scrape();
  const route = { route: '/v1/chat/completions' };
  const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - safe(before, name, labels);
  assert.equal(delta('vigil_http_requests_total', { ...route, status: '200' }), 1);
  assert.equal(delta('vigil_http_request_duration_seconds_count', route), 1);
  assert.equal(delta('vigil_gateway_overhead_seconds_count', route), 1);
  assert.equal(value(after, 'vigil_http_requests_in_flight', route), 0);
});

test('LLM calls, tokens, cost per model and per identity, upstream status codes', async () => {
  const before = await scrape();
  const reply = await openai.chat.completions.create({ model: 'mock-chat', messages: userMessage('price me') });
  const { prompt_tokens: input, completion_tokens: output } = reply.usage!;
  const after = await scrape();
  const m = { provider: 'mock', model: 'mock-chat' };
  const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - safe(before, name, labels);
  assert.equal(delta('vigil_llm_calls_total', { ...m, status: 'ok' }), 1);
  assert.equal(delta('vigil_llm_tokens_total', { ...m, type: 'input' }), input);
  assert.equal(delta('vigil_llm_tokens_total', { ...m, type: 'output' }), output);
  assert.equal(delta('vigil_llm_call_duration_seconds_count', m), 1);
  const cost = (input * 1000 + output * 2000) / 1e6;
  assert.ok(Math.abs(delta('vigil_llm_cost_usd_total', m) - cost) < 1e-9);
  assert.ok(Math.abs(delta('vigil_identity_cost_usd_total', { identity: 'team-a' }) - cost) < 1e-9);
  assert.equal(delta('vigil_upstream_responses_total', { provider: 'mock', code: '200' }), 1);
});

test('errors by class, upstream 429 codes, auth failures by reason', async () => {
  const before = await scrape();
  await rejectsAs(openai.chat.completions.create({ model: 'flaky-chat', messages: userMessage('x') }), OpenAI.RateLimitError);
  await rejectsAs(new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'wrong', maxRetries: 0 }).models.list(), OpenAI.AuthenticationError);
  const missing = await fetch(`${gateway.url}/v1/models`);
  assert.equal(missing.status, 401);
  const after = await scrape();
  const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - safe(before, name, labels);
  assert.equal(delta('vigil_llm_call_errors_total', { model: 'flaky-chat', error_class: 'rate_limit' }), 1);
  assert.equal(delta('vigil_llm_calls_total', { model: 'flaky-chat', status: 'rate_limit' }), 1);
  assert.equal(delta('vigil_upstream_responses_total', { provider: 'flaky', code: '429' }), 1);
  assert.equal(delta('vigil_auth_failures_total', { reason: 'invalid_key' }), 1);
  assert.equal(delta('vigil_auth_failures_total', { reason: 'missing_key' }), 1);
});

function safe(text: string, name: string, labels: Record<string, string>): number {
  try {
    return value(text, name, labels);
  } catch {
    return 0;
  }
}

test('streams: active gauge while open, duration, time to first token and per output token', async () => {
  const before = await scrape();
  const stream = await openai.chat.completions.create({ model: 'paced-chat', messages: userMessage('stream'), stream: true });
  let sawActive = false;
  for await (const chunk of stream) {
    if (!sawActive && chunk.choices[0]?.delta?.content) {
      sawActive = value(await scrape(), 'vigil_streams_active', { route: '/v1/chat/completions' }) === 1;
    }
  }
  assert.ok(sawActive, 'vigil_streams_active was 1 while the stream was open');
  const after = await scrape();
  const m = { provider: 'paced', model: 'paced-chat' };
  assert.equal(value(after, 'vigil_streams_active', { route: '/v1/chat/completions' }), 0);
  assert.equal(value(after, 'vigil_stream_duration_seconds_count', { route: '/v1/chat/completions' }) - safe(before, 'vigil_stream_duration_seconds_count', { route: '/v1/chat/completions' }), 1);
  assert.equal(value(after, 'vigil_llm_time_to_first_token_seconds_count', m), 1);
  assert.equal(value(after, 'vigil_llm_time_per_output_token_seconds_count', m), 1);
  // eight words at 50/s: 20 ms apart, 140 ms from first to last. The mean gap is per token, not the whole
  // span; the upper bound leaves room for timer delays on a loaded machine (a bucket bound did not).
  const tpot = value(after, 'vigil_llm_time_per_output_token_seconds_sum', m);
  assert.equal(value(after, 'vigil_llm_time_per_output_token_seconds_bucket', { ...m, le: '0.01' }), 0);
  assert.ok(tpot >= 0.015 && tpot < 0.07, `mean gap ${tpot} s`);
});

test('tool calls requested by the model are counted by tool name, over both dialects', async () => {
  const tools = [{ type: 'function' as const, function: { name: 'lookup_weather', parameters: { type: 'object' } } }];
  await openai.chat.completions.create({ model: 'mock-chat', messages: userMessage('weather?'), tools });
  const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: KEY, maxRetries: 0 });
  await anthropic.messages.create({
    model: 'mock-chat', max_tokens: 20, messages: userMessage('weather?'), stream: false,
    tools: [{ name: 'lookup_weather', input_schema: { type: 'object' } }],
  });
  assert.equal(value(await scrape(), 'vigil_llm_tool_calls_total', { model: 'mock-chat', tool: 'lookup_weather' }), 2);
});

test('client connections: one more while a socket is open, back when it closes', async () => {
  const base = value(await scrape(), 'vigil_client_connections_active');
  const socket = connect(Number(new URL(gateway.url).port), '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(value(await scrape(), 'vigil_client_connections_active'), base + 1);
  socket.destroy();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(value(await scrape(), 'vigil_client_connections_active'), base);
});

test('SLI ratios: a gateway-side 503 lowers availability; caller errors do not', async () => {
  const before = value(await scrape(), 'vigil_sli_availability_ratio');
  const err = await rejectsAs(openai.chat.completions.create({ model: 'broken-chat', messages: userMessage('x') }), OpenAI.APIError);
  assert.equal(err.status, 503);
  const after = await scrape();
  assert.ok(value(after, 'vigil_sli_availability_ratio') < before, 'availability fell');
  assert.ok(value(after, 'vigil_sli_availability_ratio') > 0.5, 'one failure among many requests');
  assert.ok(value(after, 'vigil_sli_security_ratio') < 1, 'the invalid key counted as a violation');
  assert.equal(value(after, 'vigil_sli_latency_ratio'), 1, 'mock calls add far less than 50 ms');
});

test('store: batch writes timed, WAL size and queue, usage records nothing dropped', async () => {
  await openai.embeddings.create({ model: 'mock-embedding', input: 'store me' });
  await new Promise((r) => setTimeout(r, 200)); // past flush_interval_ms
  const text = await scrape();
  assert.ok(value(text, 'vigil_store_query_duration_seconds_count', { store: 'sqlite', operation: 'insert_batch' }) >= 1);
  assert.ok(value(text, 'vigil_store_query_duration_seconds_count', { store: 'sqlite', operation: 'ping' }) >= 1, 'readiness pinged the store');
  assert.ok(value(text, 'vigil_store_wal_bytes', { store: 'sqlite' }) > 0);
  assert.equal(value(text, 'vigil_store_connections', { store: 'sqlite', state: 'open' }), 1);
  assert.equal(value(text, 'vigil_usage_records_queued'), 0);
  assert.equal(value(text, 'vigil_usage_records_dropped_total'), 0);
});

test('series cap: label sets past metrics.max_series_per_metric fold into "other", counted', async () => {
  const before = safe(await scrape(), 'vigil_metric_series_overflow_total', { metric: 'vigil_llm_tool_calls_total' });
  for (const name of ['t1', 't2', 't3', 't4', 't5', 't6', 't7']) {
    await openai.chat.completions.create({ model: 'mock-chat', messages: userMessage('go'), tools: [{ type: 'function', function: { name, parameters: { type: 'object' } } }] });
  }
  const text = await scrape();
  const toolSeries = text.split('\n').filter((l) => l.startsWith('vigil_llm_tool_calls_total{'));
  assert.ok(toolSeries.length <= 7, `at most 6 series plus "other": ${toolSeries.length}`);
  assert.ok(value(text, 'vigil_llm_tool_calls_total', { provider: 'other', model: 'other', tool: 'other' }) >= 1);
  assert.ok(value(text, 'vigil_metric_series_overflow_total', { metric: 'vigil_llm_tool_calls_total' }) > before);
});

test('runtime and build: CPU, memory, heap, event loop, build info', async () => {
  const text = await scrape();
  assert.ok(value(text, 'process_cpu_seconds_total') > 0);
  assert.ok(value(text, 'process_resident_memory_bytes') > 10_000_000);
  assert.ok(value(text, 'process_start_time_seconds') > 1_700_000_000);
  assert.ok(value(text, 'nodejs_heap_used_bytes') > 0);
  assert.ok(value(text, 'nodejs_heap_limit_bytes') > value(text, 'nodejs_heap_used_bytes'));
  assert.ok(value(text, 'nodejs_eventloop_lag_p99_seconds') >= 0);
  assert.equal(value(text, 'vigil_build_info', { version: '0.1.0' }), 1);
});
