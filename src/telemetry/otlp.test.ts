import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ConfigError } from '../config/load.ts';
import { configSchema, type TelemetryConfig } from '../config/schema.ts';
import { startGrpcReceiver, startHttpReceiver, type OtlpReceiver } from '../../test/helpers/otlp-receiver.ts';
import { makeTestCa } from '../../test/helpers/test-ca.ts';
import { batchOptions, logExporter, otlpResource, resolveOtlp, signalUrl, type DropReason } from './otlp.ts';

const telemetry = (raw: unknown): TelemetryConfig => configSchema.parse({ providers: {}, models: [], telemetry: raw }).telemetry;

test('schema defaults: no endpoint, grpc, the contract batch sizes, info minimum', () => {
  const t = telemetry({});
  assert.equal(t.otlp.endpoint, undefined);
  assert.equal(t.otlp.protocol, 'grpc');
  assert.deepEqual(t.otlp.batch, { max_queue_size: 2048, scheduled_delay_ms: 5000, max_export_batch_size: 512, export_timeout_ms: 10_000 });
  assert.equal(t.otlp.logs.min_level, 'info');
  assert.deepEqual(t.otlp.metrics, { enabled: false, interval_ms: 60_000 });
  assert.equal(t.tracing.enabled, true);
  assert.equal(resolveOtlp(t), undefined);
  assert.throws(() => telemetry({ otlp: { endpoint: 'otel:4317' } }), /endpoint/);
  assert.throws(() => telemetry({ otlp: { protocol: 'udp' } }), /protocol/);
});

test('resolveOtlp: env: header references resolve; a missing variable or CA file names the key', () => {
  const t = telemetry({ otlp: { endpoint: 'http://c:4317', headers: { Authorization: 'env:OTLP_TOKEN', 'x-org': '42' } } });
  assert.deepEqual(resolveOtlp(t, { OTLP_TOKEN: 'Bearer t' })!.headers, { authorization: 'Bearer t', 'x-org': '42' });
  assert.throws(() => resolveOtlp(t, {}), (err: Error) => err instanceof ConfigError && /telemetry\.otlp\.headers\.Authorization: environment variable OTLP_TOKEN is not set/.test(err.message));
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
  assert.deepEqual(otlpResource(telemetry({}), '1.0.0').attributes, { 'service.name': 'vigil', 'service.version': '1.0.0' });
  assert.deepEqual(otlpResource(telemetry({ service_name: 'gw', environment: 'prod' }), '2.0.0').attributes, {
    'service.name': 'gw', 'service.version': '2.0.0', 'deployment.environment': 'prod', 'deployment.environment.name': 'prod',
  });
});

/** An exporter that fails every export. */
const failing: LogRecordExporter = { export: (_r, done: (r: ExportResult) => void) => done({ code: ExportResultCode.FAILED, error: new Error('boom') }), shutdown: async () => {}, forceFlush: async () => {} };

test('drop counting: a full queue reports queue_full, a failed export reports export_failed, with counts', async () => {
  const drops: Record<string, number> = {};
  const settings = resolveOtlp(telemetry({ otlp: { endpoint: 'http://c:1', batch: { max_queue_size: 3, max_export_batch_size: 2, scheduled_delay_ms: 60_000 } } }))!;
  const processor = new BatchLogRecordProcessor({
    exporter: failing,
    ...batchOptions(settings, 'logs', (signal, reason: DropReason, count) => { drops[`${signal}/${reason}`] = (drops[`${signal}/${reason}`] ?? 0) + count; }),
  });
  const logger = new LoggerProvider({ resource: resourceFromAttributes({}), processors: [processor] }).getLogger('t');
  // The first 2 leave at once as a batch; while that export runs 3 more fill the queue and the 6th does not fit.
  for (let i = 0; i < 6; i++) logger.emit({ body: `line ${i}` });
  await processor.forceFlush();
  assert.equal(drops['logs/export_failed'], 5);
  assert.equal(drops['logs/queue_full'], 1);
});

test('TLS with a test CA: gRPC and HTTP/protobuf exporters reach receivers that present a CA-signed cert', async (t) => {
  const ca = makeTestCa();
  const receivers: OtlpReceiver[] = [await startGrpcReceiver({ tls: ca }), await startHttpReceiver({ tls: ca })];
  t.after(async () => { for (const r of receivers) await r.close(); ca.remove(); });
  const record = { body: 'over tls', resource: resourceFromAttributes({ 'service.name': 'tls-test' }), attributes: {} } as unknown as ReadableLogRecord;
  for (const [receiver, protocol] of [[receivers[0], 'grpc'], [receivers[1], 'http']] as const) {
    const exportVia = (tls: Record<string, unknown>) => new Promise<ExportResult>((resolve) => {
      const settings = resolveOtlp(telemetry({ otlp: { endpoint: receiver.url, protocol, tls, headers: { 'x-test': 'yes' }, batch: { export_timeout_ms: 3000 } } }))!;
      const exporter = logExporter(settings);
      exporter.export([minimalRecord(record)], (result) => { void exporter.shutdown(); resolve(result); });
    });
    const untrusted = await exportVia({});
    assert.equal(untrusted.code, ExportResultCode.FAILED, `${protocol}: the system CAs do not trust the test CA`);
    const trusted = await exportVia({ ca_cert_path: ca.caPath });
    assert.equal(trusted.code, ExportResultCode.SUCCESS, `${protocol}: ${trusted.error}`);
    const insecure = await exportVia({ verify: false });
    assert.equal(insecure.code, ExportResultCode.SUCCESS, `${protocol} with verify: false: ${insecure.error}`);
    assert.equal(receiver.logs.length, 2);
    assert.equal(receiver.logs[0].body, 'over tls');
    assert.equal(receiver.logs[0].resource['service.name'], 'tls-test');
    assert.equal(receiver.calls[0].headers['x-test'], 'yes');
  }
});

/** The fields the OTLP transformer reads from a log record. */
function minimalRecord(base: ReadableLogRecord): ReadableLogRecord {
  return {
    ...base, hrTime: [1_700_000_000, 0], hrTimeObserved: [1_700_000_000, 0], severityNumber: 9, severityText: 'info',
    instrumentationScope: { name: 'vigil' }, droppedAttributesCount: 0,
  } as unknown as ReadableLogRecord;
}
