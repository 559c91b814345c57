// Every catalog metric moves as it should when traffic takes the code path it describes: values, not
// just presence. One gateway, keyed, with priced mock models, a paced streaming model, an unusable provider
// and a real HTTP upstream (the fake provider) for the paths only a network call takes.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { rejectsAs, UPSTREAM_OPENAI_KEY, userMessage } from '../helpers/stack.ts';

const KEY = 'vk-metrics-test';
/**
 * metrics.max_series_per_metric: above what every other metric here needs (vigil_http_requests_total
 * reaches a dozen route/method/status sets), below the tool-name test's count.
 */
const SERIES_CAP = 16;
/** The paced mock: a 30 ms wait before answering, then 50 words a second. */
const PACED = { latencyMs: 30, tokensPerSecond: 50, tokens: 8 };
let gateway: Gateway;
let fake: FakeUpstream;
let openai: OpenAI;

test.before(async () => {
  fake = await startFakeUpstream();
  gateway = await startGateway({
    auth: { keys: [{ id: 'team-a', key: KEY }] },
    metrics: { identity_cost: true, max_series_per_metric: SERIES_CAP },
    slo: { window_seconds: 60, latency_budget_ms: 50 },
    store: { flush_interval_ms: 50 },
    providers: {
      mock: { kind: 'mock', completion_tokens: 5 },
      paced: { kind: 'mock', completion_tokens: PACED.tokens, stream_tokens_per_second: PACED.tokensPerSecond, latency_ms: PACED.latencyMs },
      flaky: { kind: 'mock', error_rates: { rate_limit: 1 } },
      broken: { kind: 'openai', api_key: 'env:VIGIL_METRICS_TEST_UNSET' },
      fake: { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
    },
    models: [
      { name: 'mock-chat', provider: 'mock', pricing: { input_per_mtok: 1000, output_per_mtok: 2000 } },
      { name: 'paced-chat', provider: 'paced' },
      { name: 'flaky-chat', provider: 'flaky' },
      { name: 'broken-chat', provider: 'broken' },
      { name: 'mock-embedding', provider: 'mock', type: 'embedding' },
      { name: 'fake-chat', provider: 'fake', upstream_model: 'ok' },
    ],
  });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
});
test.after(async () => {
  await gateway.stop();
  await fake.close();
});

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
  assert.equal(delta('vigil_http_requests_total', { ...route, status: '200', outcome: 'success' }), 1);
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
  assert.equal(delta('vigil_llm_calls_total', { ...m, outcome: 'success' }), 1);
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
  // One meaning per label: the class is error_class; outcome says whose fault; status is only an HTTP code.
  assert.equal(delta('vigil_llm_calls_total', { model: 'flaky-chat', outcome: 'provider_error' }), 1);
  assert.equal(delta('vigil_http_requests_total', { route: '/v1/chat/completions', status: '429', outcome: 'provider_error' }), 1);
  assert.equal(delta('vigil_http_requests_total', { route: '/v1/models', status: '401', outcome: 'caller_error' }), 2);
  assert.doesNotMatch(after, /^vigil_llm_calls_total\{[^}]*status=/m);
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
  // span (which would put it near 0.14 s). Timers fire late on a loaded machine, never early: lower bounds
  // only, and the gap measured against the call's own span.
  const tpot = value(after, 'vigil_llm_time_per_output_token_seconds_sum', m);
  assert.equal(value(after, 'vigil_llm_time_per_output_token_seconds_bucket', { ...m, le: '0.01' }), 0);
  assert.ok(tpot >= 0.015, `mean gap ${tpot} s`);
  // The first word comes after the mock's 30 ms wait and one 20 ms gap: 50 ms from the upstream call's
  // start. Timers fire no earlier than ~1 ms before their time.
  const expectedTtft = (PACED.latencyMs + 1000 / PACED.tokensPerSecond) / 1000;
  const ttft = value(after, 'vigil_llm_time_to_first_token_seconds_sum', m);
  assert.ok(ttft >= expectedTtft - 0.002, `time to first token ${ttft} s, expected at least ~${expectedTtft} s`);
  assert.equal(value(after, 'vigil_llm_time_to_first_token_seconds_bucket', { ...m, le: '0.04' }), 0, 'not in a bucket below 40 ms');
  // The whole call: the wait plus every word's gap.
  const call = value(after, 'vigil_llm_call_duration_seconds_sum', m);
  const expectedCall = (PACED.latencyMs + (PACED.tokens * 1000) / PACED.tokensPerSecond) / 1000;
  assert.ok(call >= expectedCall - 0.01 && call > ttft, `call ${call} s, expected at least ~${expectedCall} s`);
  assert.ok(tpot * (PACED.tokens - 1) <= call - ttft + 0.001, 'the gaps fit in the span after the first token');
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

test('SLI ratios: a gateway-side 500 lowers availability; caller errors do not', async () => {
  const before = value(await scrape(), 'vigil_sli_availability_ratio');
  const err = await rejectsAs(openai.chat.completions.create({ model: 'broken-chat', messages: userMessage('x') }), OpenAI.APIError);
  assert.equal(err.status, 500);
  const after = await scrape();
  assert.ok(value(after, 'vigil_sli_availability_ratio') < before, 'availability fell');
  assert.ok(value(after, 'vigil_sli_availability_ratio') > 0.5, 'one failure among many requests');
  assert.ok(value(after, 'vigil_sli_security_ratio') < 1, 'the invalid key counted as a violation');
  assert.equal(value(after, 'vigil_sli_latency_ratio'), 1, 'mock calls add far less than 50 ms');
  assert.ok(value(after, 'vigil_sli_events', { sli: 'availability' }) >= value(after, 'vigil_sli_events', { sli: 'latency' }), 'the weights: requests, proxied requests');
  assert.ok(value(after, 'vigil_sli_events', { sli: 'latency' }) > 0);
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
  // lookup_weather holds one series already: SERIES_CAP + 1 more tool names go past the cap.
  for (const name of Array.from({ length: SERIES_CAP + 1 }, (_, i) => `t${i + 1}`)) {
    await openai.chat.completions.create({ model: 'mock-chat', messages: userMessage('go'), tools: [{ type: 'function', function: { name, parameters: { type: 'object' } } }] });
  }
  const text = await scrape();
  const toolSeries = text.split('\n').filter((l) => l.startsWith('vigil_llm_tool_calls_total{'));
  assert.ok(toolSeries.length <= SERIES_CAP + 1, `at most ${SERIES_CAP} series plus "other": ${toolSeries.length}`);
  assert.ok(value(text, 'vigil_llm_tool_calls_total', { provider: 'other', model: 'other', tool: 'other' }) >= 1);
  assert.ok(value(text, 'vigil_metric_series_overflow_total', { metric: 'vigil_llm_tool_calls_total' }) > before);
});

test('runtime and build: CPU, memory, heap, event loop, build info', async () => {
  const text = await scrape();
  assert.ok(value(text, 'process_cpu_seconds_total') > 0);
  assert.ok(value(text, 'process_resident_memory_bytes') > 10_000_000);
  assert.ok(value(text, 'process_start_time_seconds') > 1_700_000_000);
  assert.ok(value(text, 'nodejs_heap_size_used_bytes') > 0);
  assert.ok(value(text, 'nodejs_heap_limit_bytes') > value(text, 'nodejs_heap_size_used_bytes'));
  assert.ok(value(text, 'nodejs_eventloop_lag_p99_seconds') >= 0);
  assert.equal(value(text, 'vigil_build_info', { version: '0.1.0' }), 1);
});

test('gateway overhead: the histogram adds up to the x-vigil-overhead-ms headers, positive and below the total time', async () => {
  const N = 10;
  const route = { route: '/v1/chat/completions' };
  for (const model of ['fake-chat', 'mock-chat']) { // over the network (undici) and in-process
    const before = await scrape();
    const headers: number[] = [];
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: userMessage(`overhead ${i}`) }),
      });
      assert.equal(res.status, 200);
      headers.push(Number(res.headers.get('x-vigil-overhead-ms')));
      await res.json();
    }
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - safe(before, name, labels);
    assert.equal(delta('vigil_gateway_overhead_seconds_count', route), N);
    assert.ok(headers.every((ms) => ms > 0), `${model}: every header positive: ${headers.join(', ')}`);
    const histogramMs = delta('vigil_gateway_overhead_seconds_sum', route) * 1000;
    const headerMs = headers.reduce((a, b) => a + b, 0);
    const totalMs = delta('vigil_http_request_duration_seconds_sum', { ...route, method: 'POST' }) * 1000;
    // The header is stamped just before the answer is encoded and written, the histogram when the request
    // finishes right after: never less than the headers (but for their rounding to 0.001 ms). How much more
    // is encoding, writing and scheduling, a matter of the machine's load, not asserted here.
    const rounding = N * 0.0005;
    assert.ok(histogramMs >= headerMs - rounding, `${model}: histogram ${histogramMs} ms < headers ${headerMs} ms`);
    assert.ok(histogramMs > 0 && histogramMs < totalMs, `${model}: overhead ${histogramMs} ms of ${totalMs} ms in total`);
    const upstreamMs = delta('vigil_llm_call_duration_seconds_sum', { provider: model === 'fake-chat' ? 'fake' : 'mock', model }) * 1000;
    assert.ok(upstreamMs > 0, 'the upstream took time of its own');
    // Total time is upstream time plus what the gateway added (the overhead is total minus upstream).
    assert.ok(Math.abs(totalMs - upstreamMs - histogramMs) < 0.001 * N, `total ${totalMs} ms = upstream ${upstreamMs} ms + overhead ${histogramMs} ms`);
    // That the mock's answer ends its upstream part before encoding is src/providers/mock.test.ts's to show:
    // compared here in time (two sub-millisecond sums) it failed whenever the machine was busy.
  }
});

test('unknown paths are counted under route="unmatched", never under their raw path', async () => {
  const paths = ['/v1/nonexistent-alpha', '/admin/secret-beta?token=gamma', '/v1/chat/completions/delta-suffix'];
  const before = await scrape();
  for (const path of paths) {
    const res = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(res.status, 404, path);
    await res.text();
  }
  const post = await fetch(`${gateway.url}/v1/nonexistent-epsilon`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(post.status, 404);
  await post.text();
  const after = await scrape();
  const unmatched = { route: 'unmatched' };
  const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - safe(before, name, labels);
  assert.equal(delta('vigil_http_requests_total', { ...unmatched, method: 'GET', status: '404' }), paths.length);
  assert.equal(delta('vigil_http_requests_total', { ...unmatched, method: 'POST', status: '404' }), 1);
  assert.equal(delta('vigil_http_request_duration_seconds_count', unmatched), paths.length + 1);
  assert.equal(value(after, 'vigil_http_requests_in_flight', unmatched), 0);
  assert.equal(safe(after, 'vigil_metric_series_overflow_total', { metric: 'vigil_http_requests_total' }), 0, 'nothing was folded into "other"');
  for (const raw of ['nonexistent', 'secret-beta', 'gamma', 'delta-suffix', 'epsilon']) {
    assert.ok(!after.includes(raw), `no series names the raw path part "${raw}"`);
  }
});

test('runtime: the garbage collections traffic causes are counted in nodejs_gc_duration_seconds', async () => {
  const gcCount = (text: string) => safe(text, 'nodejs_gc_duration_seconds_count', {});
  const before = await scrape();
  // Each request's 256 KiB body, parsed, decoded and hashed, leaves garbage behind; a collection follows
  // within some tens of them (when V8 decides: measured 1 to 31). Stop at the first one seen.
  const big = 'x'.repeat(256 * 1024);
  let after = before;
  let requests = 0;
  while (gcCount(after) <= gcCount(before) && requests < 200) {
    await openai.chat.completions.create({ model: 'mock-chat', messages: userMessage(`${big}${requests++}`) });
    after = await scrape();
  }
  assert.ok(gcCount(after) > gcCount(before), `collections ${gcCount(before)} → ${gcCount(after)} after ${requests} requests`);
  assert.ok(safe(after, 'nodejs_gc_duration_seconds_sum', {}) > safe(before, 'nodejs_gc_duration_seconds_sum', {}), 'pauses took time');
  const kinds = after.split('\n').filter((l) => l.startsWith('nodejs_gc_duration_seconds_count{')).map((l) => /kind="([^"]+)"/.exec(l)?.[1]);
  assert.ok(kinds.length > 0 && kinds.every((k) => ['minor', 'major', 'incremental', 'weakcb'].includes(k!)), `kinds: ${kinds.join(', ')}`);
});
