import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseHeaderList } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-otlp-env-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function withFile(yaml: string): string {
  const path = join(dir, `c${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(path, `providers: { mock: { kind: mock } }\nmodels: []\n${yaml}`);
  return path;
}

test('VIGIL_OTLP_* set endpoint, protocol, headers, log level and service name', () => {
  const config = loadConfig({
    path: withFile(''),
    env: {
      VIGIL_OTLP_ENDPOINT: 'https://otlp-gateway.example.com/otlp',
      VIGIL_OTLP_PROTOCOL: 'http',
      VIGIL_OTLP_HEADERS: 'Authorization=Bearer my-token, x-scope-orgid=12345,',
      VIGIL_OTLP_LOG_LEVEL: 'warn',
      VIGIL_OTLP_SERVICE_NAME: 'vigil-prod',
    },
  });
  const { telemetry } = config;
  assert.equal(telemetry.otlp.endpoint, 'https://otlp-gateway.example.com/otlp');
  assert.equal(telemetry.otlp.protocol, 'http');
  assert.deepEqual(telemetry.otlp.headers, { Authorization: 'Bearer my-token', 'x-scope-orgid': '12345' });
  assert.equal(telemetry.otlp.logs.min_level, 'warn');
  assert.equal(telemetry.service_name, 'vigil-prod');
});

test('the environment overrides the file key by key; unrelated file keys stay', () => {
  const path = withFile(`telemetry:
  environment: staging
  otlp:
    endpoint: http://collector:4317
    headers: { Authorization: env:TOKEN, x-team: search }
    logs: { min_level: error }
`);
  const { telemetry } = loadConfig({ path, env: { VIGIL_OTLP_HEADERS: 'x-team=ads', VIGIL_OTLP_ENDPOINT: 'http://other:4317' } });
  assert.equal(telemetry.otlp.endpoint, 'http://other:4317');
  assert.deepEqual(telemetry.otlp.headers, { Authorization: 'env:TOKEN', 'x-team': 'ads' });
  assert.equal(telemetry.otlp.logs.min_level, 'error');
  assert.equal(telemetry.environment, 'staging');
  assert.equal(loadConfig({ path, env: {} }).telemetry.otlp.endpoint, 'http://collector:4317');
});

test('bad values are config errors naming the key; header values never appear in messages', () => {
  assert.throws(() => loadConfig({ path: withFile(''), env: { VIGIL_OTLP_PROTOCOL: 'udp' } }), /telemetry\.otlp\.protocol/);
  assert.throws(() => loadConfig({ path: withFile(''), env: { VIGIL_OTLP_LOG_LEVEL: 'loud' } }), /telemetry\.otlp\.logs\.min_level/);
  assert.throws(() => parseHeaderList('a=1,secret-token-without-name'), (err: Error) =>
    err instanceof ConfigError && /entry 2 is not name=value/.test(err.message) && !err.message.includes('secret-token'));
  assert.deepEqual(parseHeaderList('authorization=Basic dXNlcjpwYXNz=='), { authorization: 'Basic dXNlcjpwYXNz==' });
});

test('OTEL_*: the standard variables configure export when neither the file nor VIGIL_OTLP_* do', () => {
  const { telemetry } = loadConfig({
    path: withFile(''),
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20tok,x-scope-orgid=7',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/ingest',
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/ca.pem',
      OTEL_SERVICE_NAME: 'gw-otel',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,deployment.environment.name=staging,team=search',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    },
  });
  assert.equal(telemetry.otlp.endpoint, 'http://collector:4318');
  assert.equal(telemetry.otlp.protocol, 'http', 'an OTEL endpoint with no protocol named: http/protobuf, the specification default');
  assert.deepEqual(telemetry.otlp.headers, { Authorization: 'Bearer tok', 'x-scope-orgid': '7' });
  assert.equal(telemetry.otlp.batch.export_timeout_ms, 2500);
  assert.equal(telemetry.otlp.traces.endpoint, 'https://traces.example.com/ingest');
  assert.equal(telemetry.otlp.tls.ca_cert_path, '/etc/ca.pem');
  assert.equal(telemetry.service_name, 'gw-otel', 'OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES');
  assert.equal(telemetry.environment, 'staging');
  assert.equal(telemetry.tracing.sampling_ratio, 0.25);
  assert.equal(loadConfig({ path: withFile(''), env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } }).telemetry.otlp.protocol, 'grpc');
  assert.equal(loadConfig({ path: withFile(''), env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=prod' } }).telemetry.service_name, 'from-attrs');
  assert.equal(loadConfig({ path: withFile(''), env: { OTEL_TRACES_SAMPLER: 'parentbased_always_off' } }).telemetry.tracing.sampling_ratio, 0);
  assert.equal(loadConfig({ path: withFile(''), env: { OTEL_TRACES_SAMPLER: 'xray', OTEL_TRACES_SAMPLER_ARG: '0.5' } }).telemetry.tracing.sampling_ratio, 1, 'other samplers are not ours');
});

test('OTEL_* precedence: the config file, then VIGIL_OTLP_*, win key by key', () => {
  const path = withFile(`telemetry:
  service_name: from-file
  otlp:
    endpoint: http://file-collector:4317
    headers: { x-team: file }
    batch: { export_timeout_ms: 9000 }
`);
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-team=otel,x-otel-only=1',
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    OTEL_SERVICE_NAME: 'from-otel',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=otel-env',
  };
  const fromFile = loadConfig({ path, env }).telemetry;
  assert.equal(fromFile.otlp.endpoint, 'http://file-collector:4317');
  assert.equal(fromFile.otlp.protocol, 'grpc', 'the endpoint in effect is the file\'s: Vigil\'s default protocol');
  assert.deepEqual(fromFile.otlp.headers, { 'x-team': 'file', 'x-otel-only': '1' });
  assert.equal(fromFile.otlp.batch.export_timeout_ms, 9000);
  assert.equal(fromFile.service_name, 'from-file');
  assert.equal(fromFile.environment, 'otel-env', 'what the file leaves unset is filled');

  const vigil = loadConfig({ path: withFile(''), env: { ...env, VIGIL_OTLP_ENDPOINT: 'http://vigil:4317', VIGIL_OTLP_SERVICE_NAME: 'from-vigil', VIGIL_OTLP_HEADERS: 'x-team=vigil' } }).telemetry;
  assert.equal(vigil.otlp.endpoint, 'http://vigil:4317');
  assert.equal(vigil.otlp.protocol, 'grpc', 'VIGIL_OTLP_ENDPOINT is in effect: Vigil\'s default protocol');
  assert.equal(vigil.service_name, 'from-vigil');
  assert.deepEqual(vigil.otlp.headers, { 'x-team': 'vigil', 'x-otel-only': '1' });
  assert.equal(vigil.otlp.batch.export_timeout_ms, 1000);
});

test('OTEL_* values the schema refuses name the variable; header values never appear', () => {
  assert.throws(() => loadConfig({ path: withFile(''), env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } }),
    /telemetry\.otlp\.protocol \(from OTEL_EXPORTER_OTLP_PROTOCOL=http\/json\)/);
  assert.throws(() => loadConfig({ path: withFile(''), env: { OTEL_EXPORTER_OTLP_TIMEOUT: '10s' } }), /export_timeout_ms \(from OTEL_EXPORTER_OTLP_TIMEOUT=10s\)/);
  assert.throws(() => loadConfig({ path: withFile(''), env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' } }), /sampling_ratio \(from OTEL_TRACES_SAMPLER_ARG=half\)/);
  assert.throws(() => loadConfig({ path: withFile(''), env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=secret-value' } }),
    (err: Error) => /telemetry\.otlp\.endpoint \(from OTEL_EXPORTER_OTLP_ENDPOINT=collector:4317\)/.test(err.message) && !err.message.includes('secret-value'));
});
