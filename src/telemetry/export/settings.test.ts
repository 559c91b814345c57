import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, type TelemetryConfig } from '../../config/schema.ts';
import { otlpResource, resolveOtlp, signalUrl } from './settings.ts';

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
  assert.throws(() => telemetry({ otlp: { traces: { endpoint: 'otel:4318/v1/traces' } } }), /traces\.endpoint|endpoint/);
  assert.throws(() => telemetry({ otlp: { protocol: 'udp' } }), /protocol/);
});

test('resolveOtlp: a CA file that cannot be read names the key', () => {
  const ca = telemetry({ otlp: { endpoint: 'https://c:4317', tls: { ca_cert_path: '/nonexistent/ca.pem' } } });
  assert.throws(() => resolveOtlp(ca, {}), /telemetry\.otlp\.tls\.ca_cert_path: cannot read \/nonexistent\/ca\.pem: ENOENT/);
});

test('resolveOtlp: where each enabled signal goes; a signal endpoint is used as it is', () => {
  const urls = (raw: unknown) => resolveOtlp(telemetry(raw), {})!.urls;
  assert.deepEqual(urls({ otlp: { endpoint: 'http://c:4318', protocol: 'http' } }), { traces: 'http://c:4318/v1/traces', logs: 'http://c:4318/v1/logs' });
  assert.deepEqual(urls({ otlp: { endpoint: 'http://c:4317', metrics: { enabled: true } } }), { traces: 'http://c:4317', logs: 'http://c:4317', metrics: 'http://c:4317' });
  assert.deepEqual(urls({ otlp: { endpoint: 'http://c:4318', protocol: 'http', logs: { enabled: false }, traces: { endpoint: 'https://t.example.com/custom' } } }),
    { traces: 'https://t.example.com/custom' });
  assert.deepEqual(urls({ otlp: { protocol: 'http', traces: { endpoint: 'http://t:4318/v1/traces' } } }), { traces: 'http://t:4318/v1/traces' });
  assert.deepEqual(urls({ otlp: { endpoint: 'http://c:4317', traces: { enabled: false }, logs: { enabled: false } } }), {});
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
