// The standard OpenTelemetry variables alone configure export: a gateway given only
// OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME sends its spans over OTLP/HTTP (the specification's
// default protocol) under that service name. And a collector's partial_success is counted as dropped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { startHttpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.ts';

const mock = { providers: { mock: { kind: 'mock' } }, models: [{ name: 'mock-chat', provider: 'mock' }] };

let plain: OtlpReceiver;
let rejecting: OtlpReceiver;
let gateway: Gateway;
let rejected: Gateway;

before(async () => {
  [plain, rejecting] = await Promise.all([startHttpReceiver(), startHttpReceiver()]);
  rejecting.rejecting = 2;
  [gateway, rejected] = await Promise.all([
    startGateway(mock, { OTEL_EXPORTER_OTLP_ENDPOINT: plain.url, OTEL_SERVICE_NAME: 'vigil-from-otel-env' }),
    startGateway({ ...mock, telemetry: { otlp: { batch: { scheduled_delay_ms: 20 } } } }, { OTEL_EXPORTER_OTLP_ENDPOINT: rejecting.url }),
  ]);
});
after(async () => {
  await Promise.all([gateway?.stop(), rejected?.stop()]);
  await Promise.all([plain?.close(), rejecting?.close()]);
});

const chat = (g: Gateway) => fetch(`${g.url}/v1/chat/completions`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'mock-chat', messages: [{ role: 'user', content: 'hello' }] }),
}).then(async (res) => { await res.arrayBuffer(); assert.equal(res.status, 200); });

test('only OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME: spans arrive over HTTP with that service.name', async () => {
  await chat(gateway);
  await gateway.stop(); // the shutdown flush sends what the batch delay still holds
  const span = await plain.waitFor(() => plain.spans.find((s) => s.kind === 'SPAN_KIND_SERVER'), 'server span');
  assert.equal(span.resource['service.name'], 'vigil-from-otel-env');
  assert.equal(plain.calls.find((c) => c.signal === 'traces')?.headers['content-type'], 'application/x-protobuf');
});

test('partial_success: the records a collector rejects are counted as dropped, reason rejected', async () => {
  await chat(rejected);
  const deadline = Date.now() + 8000;
  let counts: Record<string, number> = {};
  while (Date.now() < deadline && !(counts['traces/rejected'] >= 2 && counts['logs/rejected'] >= 2)) {
    await new Promise((r) => setTimeout(r, 50));
    const text = await (await fetch(`${rejected.url}/metrics`)).text();
    counts = Object.fromEntries([...text.matchAll(/^vigil_otlp_export_dropped_total\{signal="(\w+)",reason="(\w+)"\} (\d+)/gm)].map((m) => [`${m[1]}/${m[2]}`, Number(m[3])]));
  }
  assert.ok(counts['traces/rejected'] >= 2 && counts['logs/rejected'] >= 2, JSON.stringify(counts));
  assert.ok(rejecting.spans.length > 0, 'the spans of the accepted export still arrived');
});
