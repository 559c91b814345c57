// OTLP over HTTP/protobuf with TLS: a receiver whose certificate is signed by a CA made in the test,
// trusted through telemetry.otlp.tls.ca_cert_path; endpoint, protocol, headers and service name come from
// the VIGIL_OTLP_* environment. Batches are held for a minute, so every span and log line seen here was
// flushed by the SIGTERM shutdown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { startHttpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.ts';
import { e2eConfig, userMessage } from '../helpers/stack.ts';
import { makeTestCa, type TestCa } from '../helpers/test-ca.ts';

let ca: TestCa;
let receiver: OtlpReceiver;
let fake: FakeUpstream;
let gateway: Gateway;

before(async () => {
  ca = makeTestCa();
  receiver = await startHttpReceiver({ tls: ca });
  fake = await startFakeUpstream();
  gateway = await startGateway({
    ...e2eConfig(fake.url),
    log: { level: 'info' },
    telemetry: { otlp: { tls: { ca_cert_path: ca.caPath }, batch: { scheduled_delay_ms: 60_000, export_timeout_ms: 5000 } } },
  }, {
    VIGIL_OTLP_ENDPOINT: `${receiver.url}/v1/logs`, // a signal path given by habit is tolerated
    VIGIL_OTLP_PROTOCOL: 'http',
    VIGIL_OTLP_HEADERS: 'Authorization=Bearer e2e-token,x-scope-orgid=12345',
    VIGIL_OTLP_SERVICE_NAME: 'vigil-http-e2e',
  });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
  await receiver?.close();
  ca?.remove();
});

test('nothing is exported before the batch delay; SIGTERM flushes spans and logs over HTTPS with the env headers', async () => {
  const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  await openai.chat.completions.create({ model: 'oai-ok', messages: userMessage('over https') }, { headers: { 'x-request-id': 'otlp-http-1' } });
  await openai.embeddings.create({ model: 'oai-embed', input: 'vector' }, { headers: { 'x-request-id': 'otlp-http-2' } });
  const line = await gateway.waitForLog((r) => r.request_id === 'otlp-http-1');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(receiver.calls.length, 0, 'batches wait for scheduled_delay_ms');

  await gateway.stop();
  assert.ok(gateway.logRecords().some((r) => r.msg === 'stopped'), 'a clean shutdown');

  const server = receiver.spans.find((s) => s.traceId === line.trace_id && s.kind === 'SPAN_KIND_SERVER');
  assert.ok(server, `the request span arrived (${receiver.spans.length} spans)`);
  assert.equal(server.resource['service.name'], 'vigil-http-e2e');
  assert.equal(server.resource['deployment.environment'], undefined, 'no environment configured');
  const attempt = receiver.spans.find((s) => s.parentSpanId === server.spanId);
  assert.equal(attempt?.kind, 'SPAN_KIND_CLIENT');

  const embed = receiver.spans.find((s) => s.kind === 'SPAN_KIND_SERVER' && s.attributes['vigil.request_id'] === 'otlp-http-2');
  assert.equal(embed?.attributes['gen_ai.operation.name'], 'embeddings');
  assert.equal(embed?.attributes['gen_ai.request.model'], 'oai-embed');
  assert.ok(Number(embed?.attributes['gen_ai.usage.input_tokens']) > 0);

  const request = receiver.logs.find((l) => l.attributes.request_id === 'otlp-http-1');
  assert.equal(request?.body, 'request');
  assert.equal(request?.severityNumber, 'SEVERITY_NUMBER_INFO');
  assert.equal(request?.traceId, line.trace_id);
  assert.equal(request?.resource['service.name'], 'vigil-http-e2e');
  assert.ok(receiver.logs.some((l) => l.body === 'stopped'), 'even the last line before exit is exported');

  assert.deepEqual([...new Set(receiver.calls.map((c) => c.signal))].sort(), ['logs', 'traces']);
  for (const call of receiver.calls) {
    assert.equal(call.headers.authorization, 'Bearer e2e-token');
    assert.equal(call.headers['x-scope-orgid'], '12345');
    assert.equal(call.headers['content-type'], 'application/x-protobuf');
  }
});
