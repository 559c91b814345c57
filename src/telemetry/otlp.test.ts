import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, type TelemetryConfig } from '../config/schema.ts';
import { startGrpcReceiver, startHttpReceiver, type OtlpReceiver } from '../../test/helpers/otlp-receiver.ts';
import { makeTestCa } from '../../test/helpers/test-ca.ts';
import { otlpResource, resolveOtlp, signalUrl } from './otlp.ts';
import { encodeLogRecord, envelope } from './otlp/encode.ts';
import { ProtoWriter } from './otlp/proto-writer.ts';
import { createSender } from './otlp/send.ts';

const telemetry = (raw: unknown): TelemetryConfig => configSchema.parse({ providers: {}, models: [], telemetry: raw }).telemetry;

test('schema defaults: no endpoint, grpc, the contract batch sizes, info minimum', () => {
  const t = telemetry({});
  assert.equal(t.otlp.endpoint, undefined);
  assert.equal(t.otlp.protocol, 'grpc');
  assert.deepEqual(t.otlp.batch, { max_queue_size: 2048, scheduled_delay_ms: 5000, max_export_batch_size: 512, export_timeout_ms: 10_000 });
  assert.equal(t.otlp.logs.min_level, 'info');
  assert.deepEqual(t.otlp.metrics, { enabled: false, interval_ms: 60_000 });
  assert.equal(t.tracing.enabled, true);
  assert.equal(resolveOtlp(t, {}), undefined);
  assert.throws(() => telemetry({ otlp: { endpoint: 'otel:4317' } }), /endpoint/);
  assert.throws(() => telemetry({ otlp: { protocol: 'udp' } }), /protocol/);
});

test('resolveOtlp: a CA file that cannot be read names the key', () => {
  const ca = telemetry({ otlp: { endpoint: 'https://c:4317', tls: { ca_cert_path: '/nonexistent/ca.pem' } } });
  assert.throws(() => resolveOtlp(ca, {}), /telemetry\.otlp\.tls\.ca_cert_path: cannot read \/nonexistent\/ca\.pem: ENOENT/);
});

test('signalUrl: a base URL gets the signal path; a signal path given by habit is replaced', () => {
  assert.equal(signalUrl('http://c:4318', 'traces'), 'http://c:4318/v1/traces');
  assert.equal(signalUrl('https://otlp.example.com/otlp/', 'logs'), 'https://otlp.example.com/otlp/v1/logs');
  assert.equal(signalUrl('https://otlp-gateway.grafana.net/v1/logs', 'traces'), 'https://otlp-gateway.grafana.net/v1/traces');
  assert.equal(signalUrl('http://c:4318/v1/metrics', 'metrics'), 'http://c:4318/v1/metrics');
  assert.equal(signalUrl('http://c:4318/v1/metrics', 'logs'), 'http://c:4318/v1/logs');
});

test('otlpResource: service.name, service.version, deployment.environment only when set', () => {
  assert.deepEqual(otlpResource(telemetry({}), '1.0.0'), { 'service.name': 'vigil', 'service.version': '1.0.0' });
  assert.deepEqual(otlpResource(telemetry({ service_name: 'gw', environment: 'prod' }), '2.0.0'), {
    'service.name': 'gw', 'service.version': '2.0.0', 'deployment.environment': 'prod', 'deployment.environment.name': 'prod',
  });
});

const wrap = envelope({ 'service.name': 'tls-test' }, { name: 'vigil', version: '1.2.3' });
const logRecord = { timeMs: 1_700_000_000_000, level: 'info', body: 'over tls', attributes: [], omit: new Set<string>(), traceId: undefined, spanId: undefined };

test('TLS with a test CA: gRPC and HTTP/protobuf senders reach receivers that present a CA-signed cert', async (t) => {
  const ca = makeTestCa();
  const receivers: OtlpReceiver[] = [await startGrpcReceiver({ tls: ca }), await startHttpReceiver({ tls: ca })];
  t.after(async () => { for (const r of receivers) await r.close(); ca.remove(); });
  for (const [receiver, protocol] of [[receivers[0], 'grpc'], [receivers[1], 'http']] as const) {
    const exportVia = async (tls: Record<string, unknown>): Promise<Error | undefined> => {
      const settings = resolveOtlp(telemetry({ otlp: { endpoint: receiver.url, protocol, tls, headers: { 'x-test': 'yes' } } }), { 'x-test': 'yes' })!;
      // A 1 s budget: the refused handshake is retryable, and one backoff already takes longer.
      const sender = createSender({ ...settings, timeoutMs: 1000 }, 'logs');
      try {
        const w = new ProtoWriter();
        encodeLogRecord(w, logRecord, Date.now());
        await sender.send(wrap(w.view()));
        return undefined;
      } catch (err) {
        return err as Error;
      } finally {
        sender.close();
      }
    };
    const untrusted = await exportVia({});
    assert.ok(untrusted, `${protocol}: the system CAs do not trust the test CA`);
    assert.equal(await exportVia({ ca_cert_path: ca.caPath }), undefined, `${protocol} with the test CA`);
    assert.equal(await exportVia({ verify: false }), undefined, `${protocol} with verify: false`);
    assert.equal(receiver.logs.length, 2);
    assert.equal(receiver.logs[0].body, 'over tls');
    assert.equal(receiver.logs[0].resource['service.name'], 'tls-test');
    assert.equal(receiver.calls[0].headers['x-test'], 'yes');
  }
});
