// Traces and logs over OTLP/gRPC to a real receiver (decoded with the official protos): the request span
// continues the client's traceparent, the attempt span is its CLIENT child and its traceparent reaches the
// upstream, GenAI attributes are right, log records carry the resource and trace ids, headers come from
// an env: reference, and only lines at or above the OTLP minimum level are exported.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { FAKE_USAGE, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { startGrpcReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { e2eConfig, rejectsAs, userMessage } from '../helpers/stack.ts';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

let receiver: OtlpReceiver;
let fake: FakeUpstream;
let gateway: Gateway;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  receiver = await startGrpcReceiver();
  fake = await startFakeUpstream();
  gateway = await startGateway({
    ...e2eConfig(fake.url),
    telemetry: {
      service_name: 'vigil-e2e',
      environment: 'e2e',
      otlp: {
        endpoint: receiver.url,
        protocol: 'grpc',
        headers: { 'x-otlp-token': 'env:E2E_OTLP_TOKEN' },
        logs: { min_level: 'warn' },
        batch: { scheduled_delay_ms: 50 },
      },
    },
  }, { E2E_OTLP_TOKEN: 'tok-from-env' });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'x', maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  await receiver?.close();
});

/** The request span of one trace and its attempt spans. */
async function traceOf(traceId: string, attempts = 1): Promise<{ server: ReceivedSpan; clients: ReceivedSpan[] }> {
  return receiver.waitFor(() => {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    const server = spans.find((s) => s.kind === 'SPAN_KIND_SERVER');
    const clients = spans.filter((s) => s.kind === 'SPAN_KIND_CLIENT');
    return server && clients.length >= attempts ? { server, clients } : undefined;
  }, `spans of trace ${traceId}`);
}

test('OpenAI chat: the client traceparent is continued, the attempt is a CLIENT child, the upstream gets its traceparent', async () => {
  const completion = await openai.chat.completions.create(
    { model: 'oai-ok', messages: userMessage('trace me') },
    { headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, 'x-request-id': 'otlp-grpc-1' } },
  );
  assert.equal(completion.usage?.prompt_tokens, FAKE_USAGE.input);
  const { server, clients: [attempt] } = await traceOf(CLIENT_TRACE);

  assert.equal(server.parentSpanId, CLIENT_SPAN);
  assert.equal(server.name, 'POST /v1/chat/completions');
  assert.equal(attempt.parentSpanId, server.spanId);
  assert.equal(attempt.name, 'chat ok');
  assert.deepEqual(server.resource, { 'service.name': 'vigil-e2e', 'service.version': server.resource['service.version'], 'deployment.environment': 'e2e', 'deployment.environment.name': 'e2e' });
  assert.match(String(server.resource['service.version']), /^\d+\.\d+\.\d+/);
  assert.deepEqual(pick(server.attributes, ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model',
    'gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens', 'gen_ai.response.finish_reasons', 'http.request.method', 'http.route',
    'http.response.status_code', 'vigil.request_id', 'error.type']), {
    'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'fake-openai', 'gen_ai.request.model': 'oai-ok', 'gen_ai.response.model': 'ok',
    'gen_ai.usage.input_tokens': FAKE_USAGE.input, 'gen_ai.usage.output_tokens': FAKE_USAGE.output, 'gen_ai.response.finish_reasons': ['stop'],
    'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': 200, 'vigil.request_id': 'otlp-grpc-1',
    'error.type': undefined,
  });
  assert.deepEqual(pick(attempt.attributes, ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'server.address', 'http.response.status_code']), {
    'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'fake-openai', 'gen_ai.request.model': 'ok', 'server.address': '127.0.0.1', 'http.response.status_code': 200,
  });

  const upstream = fake.requests.find((r) => String(r.headers.traceparent ?? '').includes(CLIENT_TRACE));
  assert.equal(upstream?.headers.traceparent, `00-${CLIENT_TRACE}-${attempt.spanId}-01`, 'the upstream call is parented by the attempt span');

  const line = await gateway.waitForLog((r) => r.request_id === 'otlp-grpc-1');
  assert.equal(line.trace_id, CLIENT_TRACE);
  assert.equal(line.span_id, server.spanId);
});

test('Anthropic stream without a traceparent starts a new trace with streaming GenAI attributes', async () => {
  const stream = anthropic.messages.stream({ model: 'claude-ok', max_tokens: 64, messages: userMessage('stream me') }, { headers: { 'x-request-id': 'otlp-grpc-2' } });
  await stream.finalMessage();
  const line = await gateway.waitForLog((r) => r.request_id === 'otlp-grpc-2');
  assert.match(line.trace_id, /^[0-9a-f]{32}$/);
  assert.notEqual(line.trace_id, CLIENT_TRACE);
  const { server, clients: [attempt] } = await traceOf(line.trace_id);
  assert.equal(server.parentSpanId, '');
  assert.equal(server.attributes['gen_ai.provider.name'], 'anthropic');
  assert.equal(server.attributes['gen_ai.request.stream'], true);
  assert.equal(server.attributes['gen_ai.usage.output_tokens'], FAKE_USAGE.output);
  assert.equal(typeof server.attributes['gen_ai.response.time_to_first_chunk'], 'number');
  assert.equal(attempt.attributes['gen_ai.provider.name'], 'anthropic');
});

test('an upstream 500: error.type on both spans, the warn line exported with trace context and resource', async () => {
  await rejectsAs(openai.chat.completions.create({ model: 'oai-fail-500', messages: userMessage('fail') }, { headers: { 'x-request-id': 'otlp-grpc-3' } }), OpenAI.APIError);
  const line = await gateway.waitForLog((r) => r.request_id === 'otlp-grpc-3');
  const { server, clients: [attempt] } = await traceOf(line.trace_id);
  assert.equal(server.attributes['error.type'], 'server_error');
  assert.equal(server.attributes['http.response.status_code'], 502);
  assert.equal(server.status, 'STATUS_CODE_ERROR');
  assert.equal(attempt.attributes['error.type'], 'server_error');
  assert.equal(attempt.attributes['http.response.status_code'], 500);
  assert.equal(attempt.status, 'STATUS_CODE_ERROR');

  const record = await receiver.waitFor(() => receiver.logs.find((l) => l.attributes.request_id === 'otlp-grpc-3'), 'the request failed log record');
  assert.equal(record.body, 'request failed');
  assert.equal(record.severityNumber, 'SEVERITY_NUMBER_WARN');
  assert.equal(record.traceId, line.trace_id);
  assert.equal(record.spanId, server.spanId);
  assert.equal(record.resource['service.name'], 'vigil-e2e');
  assert.equal(record.resource['deployment.environment'], 'e2e');
  assert.equal(record.resource['service.version'], server.resource['service.version'], 'logs and spans name the same version');
  assert.match(String(record.resource['service.version']), /^\d+\.\d+\.\d+/);
  assert.equal(record.attributes.error_code, 'GW_UPSTREAM_SERVER_ERROR');
  assert.equal(record.attributes.module, 'pipeline');
});

test('min level: info lines stay on stdout only; export calls carry the env: header', async () => {
  await receiver.waitFor(() => receiver.logs.length > 0, 'any log record');
  assert.ok(gateway.logRecords().some((r) => r.msg === 'request' && r.level === 'info'), 'info lines are on stdout');
  assert.deepEqual([...new Set(receiver.logs.map((l) => l.severityNumber))], ['SEVERITY_NUMBER_WARN']);
  const signals = new Set(receiver.calls.map((c) => c.signal));
  assert.deepEqual([...signals].sort(), ['logs', 'traces']);
  for (const call of receiver.calls) assert.equal(call.headers['x-otlp-token'], 'tok-from-env');
});

function pick(attrs: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, attrs[k]]));
}
