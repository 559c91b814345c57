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
