import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import type { SpanRecord } from './export/encode.ts';
import { createTracing, genAiProviderName } from './trace.ts';
import { testContext } from '../../test/helpers/context.ts';

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

function setup(samplingRatio = 1, exported = true) {
  const spans: SpanRecord[] = [];
  const tracing = createTracing({
    samplingRatio,
    providerNames: new Map([['oa', 'openai'], ['local', 'local']]),
    sink: exported ? { add: (span) => void spans.push(span), shutdown: async () => {} } : undefined,
  });
  /** Spans ended so far. */
  const finished = async () => spans;
  return { finished, tracing };
}

const context = (headers: Record<string, string> = {}): RequestContext =>
  testContext({ headers, requestedModel: 'fast', target: { name: 'fast', upstreamModel: 'gpt-4o-mini', providerId: 'oa', deploymentId: 'test', type: 'chat' }, attempt: true });

test('genAiProviderName: semconv names for openai/anthropic kinds, the provider id otherwise', () => {
  assert.equal(genAiProviderName('my-openai', 'openai'), 'openai');
  assert.equal(genAiProviderName('claude', 'anthropic'), 'anthropic');
  assert.equal(genAiProviderName('openrouter', 'openai-compatible'), 'openrouter');
  assert.equal(genAiProviderName('mock', 'mock'), 'mock');
});

test('request span continues the client traceparent; attempt span is its CLIENT child and goes upstream', async () => {
  const { finished, tracing } = setup();
  const ctx = context({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=abc' });
  ctx.span = tracing.startRequest(ctx);
  assert.equal(ctx.span.traceId, CLIENT_TRACE);
  assert.match(ctx.span.spanId, /^[0-9a-f]{16}$/);

  const attempt = ctx.span.startAttempt(ctx, ctx.attempt!, new URL('https://api.openai.com/v1'));
  const [, traceId, parentId, flags] = attempt.traceparent.split('-');
  assert.equal(traceId, CLIENT_TRACE);
  assert.equal(flags, '01');
  assert.equal(attempt.tracestate, 'vendor=abc');
  ctx.attempt!.startedAt = 1;
  ctx.attempt!.status = 200;
  attempt.end(200);
  attempt.end(500); // only the first end counts

  ctx.attempt!.usage = { inputTokens: 12, outputTokens: 34, cachedInputTokens: 5 };
  ctx.finishReason = 'stop';
  ctx.stream = true;
  ctx.attempt!.firstTokenAt = 250;
  ctx.span.end(ctx);
  ctx.span.end(ctx);

  const spans = (await finished());
  assert.equal(spans.length, 2);
  const client = spans.find((s) => s.kind === 'client')!;
  const server = spans.find((s) => s.kind === 'server')!;
  assert.equal(server.name, 'POST /v1/chat/completions');
  assert.equal(server.parentSpanId, CLIENT_SPAN);
  assert.equal(server.parentIsRemote, true);
  assert.equal(client.parentSpanId, server.spanId);
  assert.equal(client.parentIsRemote, false);
  assert.equal(client.spanId, parentId);
  assert.equal(client.traceId, CLIENT_TRACE);
  assert.equal(client.name, 'chat gpt-4o-mini');
  assert.deepEqual(client.attributes, {
    'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini',
    'server.address': 'api.openai.com', 'server.port': 443, 'http.request.method': 'POST', 'http.response.status_code': 200,
    'vigil.attempt': 1, 'vigil.deployment': 'test',
  });
  assert.deepEqual(server.attributes, {
    'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'gen_ai.operation.name': 'chat', 'vigil.request_id': 'req-1',
    'http.response.status_code': 200, 'gen_ai.request.model': 'fast', 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 34, 'gen_ai.usage.cache_read.input_tokens': 5,
    'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.request.stream': true, 'gen_ai.response.time_to_first_chunk': 0.25,
  });
  assert.equal(server.error, undefined, 'status unset');
  assert.equal(server.traceState, 'vendor=abc', 'the client tracestate stays on the trace');
  assert.ok(server.startMs <= client.startMs, 'the attempt starts inside its request');
  assert.ok(client.endMs <= server.endMs, 'and ends inside it');
  assert.ok(Math.abs(server.startMs - Date.now()) < 5000, 'times are milliseconds since the epoch');
});

test('without a traceparent a new trace starts; a 5xx marks both spans with error.type', async () => {
  const { finished, tracing } = setup();
  const ctx = context();
  ctx.span = tracing.startRequest(ctx);
  assert.notEqual(ctx.span.traceId, CLIENT_TRACE);
  const attempt = ctx.span.startAttempt(ctx, ctx.attempt!, new URL('http://127.0.0.1:8000'));
  const error = new GatewayError('GW_UPSTREAM_SERVER_ERROR', 'status 500');
  ctx.attempt!.status = 500;
  attempt.end(500, error);
  ctx.error = error;
  ctx.status = 502;
  ctx.span.end(ctx);

  const [client, server] = (await finished());
  assert.equal(server.parentSpanId, undefined);
  assert.equal(client.attributes['server.port'], 8000);
  assert.equal(client.attributes['error.type'], 'server_error');
  assert.equal(client.error, 'GW_UPSTREAM_SERVER_ERROR', 'status ERROR');
  assert.equal(server.attributes['error.type'], 'server_error');
  assert.equal(server.attributes['vigil.error_code'], 'GW_UPSTREAM_SERVER_ERROR');
  assert.equal(server.attributes['gen_ai.response.model'], undefined, 'no answer, no response model');
  assert.equal(server.error, 'GW_UPSTREAM_SERVER_ERROR');
});

test('a caller fault (4xx) sets error.type but leaves the server span status unset', async () => {
  const { finished, tracing } = setup();
  const ctx = context();
  ctx.span = tracing.startRequest(ctx);
  ctx.error = new GatewayError('GW_MODEL_NOT_FOUND');
  ctx.status = 404;
  ctx.target = undefined;
  ctx.span.end(ctx);

  const [server] = (await finished());
  assert.equal(server.attributes['error.type'], 'invalid_request');
  assert.equal(server.error, undefined, 'status unset');
});

test('sampling: ratio 0 records nothing but still propagates ids; a sampled client parent wins', async () => {
  const { finished, tracing } = setup(0);
  const unsampled = context();
  unsampled.span = tracing.startRequest(unsampled);
  const attempt = unsampled.span.startAttempt(unsampled, unsampled.attempt!, new URL('http://127.0.0.1:1'));
  assert.match(attempt.traceparent, new RegExp(`^00-${unsampled.span.traceId}-[0-9a-f]{16}-00$`));
  attempt.end(200);
  unsampled.span.end(unsampled);

  const sampled = context({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
  sampled.span = tracing.startRequest(sampled);
  sampled.span.end(sampled);

  assert.deepEqual((await finished()).map((s) => s.traceId), [CLIENT_TRACE]);
});

test('sampling: a ratio between 0 and 1 samples about that share of new traces, by trace id', async () => {
  const { finished, tracing } = setup(0.25);
  const total = 2000;
  for (let i = 0; i < total; i++) {
    const ctx = context();
    ctx.span = tracing.startRequest(ctx);
    ctx.span.end(ctx);
  }
  const recorded = (await finished()).length;
  assert.ok(recorded > total * 0.2 && recorded < total * 0.3, `${recorded} of ${total} sampled`);
});

test('nothing exported: new traces are not recorded, yet ids exist and a client sampled flag passes upstream', () => {
  const { tracing } = setup(1, false);
  const fresh = context();
  fresh.span = tracing.startRequest(fresh);
  assert.match(fresh.span.startAttempt(fresh, fresh.attempt!, new URL('http://127.0.0.1:1')).traceparent, new RegExp(`^00-${fresh.span.traceId}-[0-9a-f]{16}-00$`));
  const continued = context({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
  continued.span = tracing.startRequest(continued);
  assert.match(continued.span.startAttempt(continued, continued.attempt!, new URL('http://127.0.0.1:1')).traceparent, new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-01$`));
});

test('a malformed traceparent is ignored: a fresh trace, not an error', () => {
  const { tracing } = setup();
  const ctx = context({ traceparent: '00-zzzz-not-valid' });
  const span = tracing.startRequest(ctx);
  assert.match(span.traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(span.traceId, '0'.repeat(32));
});

test('an attempt that ends before its request is exported with it; one that ends after, when it ends; each keeps its own end time', async () => {
  const { finished, tracing } = setup();
  const ctx = context();
  ctx.span = tracing.startRequest(ctx);
  const first = ctx.span.startAttempt(ctx, ctx.attempt!, new URL('http://127.0.0.1:8000'));
  first.end(429);
  const late = ctx.span.startAttempt(ctx, ctx.addAttempt(ctx.target!), new URL('http://127.0.0.1:8000'));
  assert.equal((await finished()).length, 0, 'nothing handed on while the request runs');
  await new Promise((resolve) => setTimeout(resolve, 20));
  ctx.status = 499;
  ctx.span.end(ctx);
  const withRequest = await finished();
  const server = withRequest.find((s) => s.kind === 'server')!;
  const ended = withRequest.find((s) => s.kind === 'client')!;
  assert.equal(withRequest.length, 2, 'the request and the attempt that had ended');
  assert.equal(ended.attributes['http.response.status_code'], 429);
  assert.ok(server.endMs - ended.endMs >= 15, 'the held attempt keeps its own end time');
  late.end(0, new GatewayError('GW_CLIENT_CLOSED'));
  const all = await finished();
  assert.equal(all.length, 3, 'the late attempt, once it ended');
  const lateSpan = all.find((s) => s.kind === 'client' && s !== ended)!;
  assert.equal(lateSpan.attributes['error.type'], 'client_abort');
  for (const attempt of [ended, lateSpan]) assert.equal(attempt.parentSpanId, server.spanId);
});
