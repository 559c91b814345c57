import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { workerCount } from '../server/cluster.ts';
import { ConfigError, embeddedDefaults, loadConfig } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function yamlFile(text: string): string {
  const path = join(dir, `config-${fileCount++}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** Runs loadConfig and returns the ConfigError's message (fails when it does not throw one). */
function loadError(options: Parameters<typeof loadConfig>[0]): string {
  try {
    loadConfig(options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.message;
  }
  assert.fail('loadConfig did not throw');
}

const MINIMAL = 'providers:\n  mock: { kind: mock }\nmodels:\n  - { name: m, provider: mock }\n';

test('embedded defaults with an empty env: mock models only', () => {
  const config = loadConfig({ env: {} });
  assert.deepEqual(Object.keys(config.providers), ['mock']);
  assert.deepEqual(config.models.map((m) => [m.name, m.provider, m.type]), [
    ['mock-chat', 'mock', 'chat'],
    ['mock-embedding', 'mock', 'embedding'],
  ]);
  assert.equal(config.server.port, 8080);
  assert.equal(config.server.host, '127.0.0.1', 'loopback unless set: an open gateway is not offered to every interface');
  assert.equal(config.metrics.listener.host, undefined, 'the metrics listener follows server.host unless set');
  assert.equal(config.store.data_dir, './data');
  assert.equal(config.log.level, 'info');
  assert.equal(config.log.format, 'json');
  assert.deepEqual(config.auth.keys, []);
  const mock = config.providers.mock;
  assert.equal(mock.kind, 'mock');
  if (mock.kind === 'mock') assert.equal(mock.completion_tokens, 16);
});

test('embedded defaults add openai and anthropic models when their keys are in the env', () => {
  const openaiOnly = loadConfig({ env: { OPENAI_API_KEY: 'sk-x' } });
  assert.deepEqual(Object.keys(openaiOnly.providers).sort(), ['mock', 'openai']);
  assert.deepEqual(openaiOnly.providers.openai, { kind: 'openai', api_key: 'env:OPENAI_API_KEY', headers: {}, connections: 128, passthrough: false });
  const openaiModels = openaiOnly.models.filter((m) => m.provider === 'openai');
  assert.deepEqual(openaiModels.map((m) => m.name), ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
  assert.equal(openaiModels.at(-1)!.type, 'embedding');

  const both = loadConfig({ env: { OPENAI_API_KEY: 'sk-x', ANTHROPIC_API_KEY: 'sk-ant' } });
  assert.deepEqual(Object.keys(both.providers).sort(), ['anthropic', 'mock', 'openai']);
  const anthropicModels = both.models.filter((m) => m.provider === 'anthropic');
  assert.deepEqual(anthropicModels.map((m) => m.name), ['claude-opus-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5']);
  assert.ok(anthropicModels.every((m) => m.type === 'chat'));

  const raw = embeddedDefaults({ ANTHROPIC_API_KEY: 'k' }) as { providers: Record<string, unknown> };
  assert.deepEqual(Object.keys(raw.providers).sort(), ['anthropic', 'mock']);
});

test('env overlay: VIGIL_PORT, VIGIL_HOST, VIGIL_DATA_DIR, VIGIL_LOG, VIGIL_LOG_FORMAT', () => {
  const config = loadConfig({
    env: { VIGIL_PORT: '9191', VIGIL_HOST: '127.0.0.1', VIGIL_DATA_DIR: '/var/lib/vigil', VIGIL_LOG: 'warn,routing=debug', VIGIL_LOG_FORMAT: 'pretty' },
  });
  assert.equal(config.server.port, 9191);
  assert.equal(config.server.host, '127.0.0.1');
  assert.equal(config.store.data_dir, '/var/lib/vigil');
  assert.equal(config.log.level, 'warn,routing=debug');
  assert.equal(config.log.format, 'pretty');
});

test('precedence: --port beats VIGIL_PORT beats the file', () => {
  const path = yamlFile(`server:\n  port: 7000\n${MINIMAL}`);
  assert.equal(loadConfig({ path, env: {} }).server.port, 7000);
  assert.equal(loadConfig({ path, env: { VIGIL_PORT: '7100' } }).server.port, 7100);
  assert.equal(loadConfig({ path, env: { VIGIL_PORT: '7100' }, port: 7200 }).server.port, 7200);
  assert.equal(loadConfig({ env: {}, port: 0 }).server.port, 0);
});

test('VIGIL_CONFIG in the env names the file', () => {
  const path = yamlFile('providers:\n  fake: { kind: mock, completion_tokens: 3 }\nmodels:\n  - { name: only, provider: fake }\n');
  const config = loadConfig({ env: { VIGIL_CONFIG: path } });
  assert.deepEqual(config.models.map((m) => m.name), ['only']);
});

test('YAML file: values and defaults are filled in', () => {
  const path = yamlFile(`
server:
  port: 9000
upstream:
  total_timeout_ms: 5000
providers:
  oa: { kind: openai, api_key: env:KEY }
  local: { kind: openai-compatible, base_url: "http://127.0.0.1:11434/v1" }
models:
  - { name: fast, provider: oa, upstream_model: gpt-4o-mini }
  - { name: emb, provider: local, type: embedding }
auth:
  keys:
    - { id: team-a, key: env:TEAM_A_KEY }
`);
  const config = loadConfig({ path, env: {} });
  assert.equal(config.server.port, 9000);
  assert.equal(config.server.body_limit_bytes, 4 * 1024 * 1024);
  assert.equal(config.upstream.total_timeout_ms, 5000);
  assert.equal(config.upstream.connect_timeout_ms, 10_000);
  assert.deepEqual(config.models[0], { name: 'fast', provider: 'oa', upstream_model: 'gpt-4o-mini', type: 'chat', fallbacks: [] });
  assert.equal(config.models[1].type, 'embedding');
  assert.deepEqual(config.auth.keys, [{ id: 'team-a', key: 'env:TEAM_A_KEY' }]);
  const local = config.providers.local;
  assert.ok(local.kind === 'openai-compatible' && local.base_url === 'http://127.0.0.1:11434/v1');
});

test('a file layers its top-level sections over the embedded defaults', () => {
  const portOnly = loadConfig({ path: yamlFile('server: { port: 9000 }\n'), env: { OPENAI_API_KEY: 'sk-x' } });
  assert.equal(portOnly.server.port, 9000);
  assert.deepEqual(Object.keys(portOnly.providers).sort(), ['mock', 'openai'], 'the default providers, env ones included');
  assert.ok(portOnly.models.some((m) => m.name === 'mock-chat') && portOnly.models.some((m) => m.name === 'gpt-4.1'));

  const empty = loadConfig({ path: yamlFile(''), env: {} });
  assert.deepEqual(empty.models.map((m) => m.name), ['mock-chat', 'mock-embedding'], 'an empty file is the defaults');

  const own = loadConfig({ path: yamlFile('providers:\n  vllm: { kind: openai-compatible, base_url: "http://127.0.0.1:8000/v1" }\nmodels:\n  - { name: llama, provider: vllm }\n'), env: { OPENAI_API_KEY: 'sk-x' } });
  assert.deepEqual(Object.keys(own.providers), ['vllm'], 'a section the file sets replaces the default one whole');
  assert.deepEqual(own.models.map((m) => m.name), ['llama']);
});

test('a missing file, bad YAML and a non-mapping document are ConfigErrors naming the file', () => {
  const missing = join(dir, 'does-not-exist.yaml');
  assert.match(loadError({ path: missing, env: {} }), new RegExp(`cannot read config file ${missing}`));
  const bad = yamlFile('providers: [unclosed\n');
  assert.match(loadError({ path: bad, env: {} }), /is not valid YAML/);
  const list = yamlFile('- a\n- b\n');
  assert.match(loadError({ path: list, env: {} }), /must be a YAML mapping/);
});

test('unknown key: the dotted path and the offending key', () => {
  const message = loadError({ path: yamlFile(`server:\n  prot: 1\n${MINIMAL}`), env: {} });
  assert.match(message, /^invalid config \/.*config-\d+\.yaml: server: /, 'the header names the file; one problem is one line');
  assert.match(message, /server: Unrecognized key: "prot"/);
});

test('wrong type: the dotted path and what was expected', () => {
  const message = loadError({ path: yamlFile(`server:\n  port: eighty\n${MINIMAL}`), env: {} });
  assert.match(message, /server\.port: .*expected number/i);
  const nested = loadError({ path: yamlFile('providers:\n  mock: { kind: mock }\nmodels:\n  - { name: 5, provider: mock }\n'), env: {} });
  assert.match(nested, /models\.0\.name: .*expected string/i);
});

test('environment overrides that fail validation name the variable and its value', () => {
  assert.equal(loadError({ env: { VIGIL_PORT: 'abc' } }), 'invalid config (embedded defaults): server.port (from VIGIL_PORT=abc): Invalid input: expected number, received string');
  assert.match(loadError({ env: { VIGIL_PORT: '70000' } }), /server\.port \(from VIGIL_PORT=70000\): .*<=65535/);
  assert.match(loadError({ env: { VIGIL_LOG_FORMAT: 'xml' } }), /log\.format \(from VIGIL_LOG_FORMAT=xml\): .*"json".*"pretty"/);
  assert.match(loadError({ env: { VIGIL_OTLP_PROTOCOL: 'udp' } }), /telemetry\.otlp\.protocol \(from VIGIL_OTLP_PROTOCOL=udp\): /);
  const file = yamlFile('server: { port: 9000 }\n');
  assert.match(loadError({ path: file, env: { VIGIL_HOST: '', VIGIL_LOG: 'verbose' } }), new RegExp(`^invalid config ${file}: log\\.level \\(from VIGIL_LOG=verbose\\): log level "verbose" is not one of`));
});

test('log.level directives are validated when the config loads, case-insensitively', () => {
  assert.equal(loadConfig({ env: { VIGIL_LOG: 'DEBUG,routing=Trace' } }).log.level, 'DEBUG,routing=Trace');
  assert.match(loadError({ path: yamlFile('log: { level: "info,routing=loud" }\n'), env: {} }), /log\.level: log level "loud" is not one of/);
  assert.equal(loadConfig({ env: { VIGIL_OTLP_LOG_LEVEL: 'WARN' } }).telemetry.otlp.logs.min_level, 'warn');
});

test('provider kinds and field values are checked', () => {
  const kind = loadError({ path: yamlFile('providers:\n  x: { kind: gemini }\nmodels: []\n'), env: {} });
  assert.match(kind, /providers\.x\.kind: .*'mock' \| 'openai' \| 'anthropic' \| 'openai-compatible'/);
  const rate = loadError({ path: yamlFile('providers:\n  m: { kind: mock, error_rates: { rate_limit: 2 } }\nmodels: []\n'), env: {} });
  assert.match(rate, /providers\.m\.error_rates\.rate_limit: .*<=1/);
  const url = loadError({ path: yamlFile('providers:\n  c: { kind: openai-compatible, base_url: not a url }\nmodels: []\n'), env: {} });
  assert.match(url, /providers\.c\.base_url: /);
});

test('a provider id that is not kebab-case: the message says what an id must look like', () => {
  // The schema's record key regex carries 'provider ids are lowercase kebab-case'; the operator should see it.
  const message = loadError({ path: yamlFile('providers:\n  Bad_Id: { kind: mock }\nmodels: []\n'), env: {} });
  assert.match(message, /providers\.Bad_Id: /);
  assert.match(message, /kebab-case/);
});

test('server.workers: a count, or auto for one worker per CPU the process may use', () => {
  const minimal = 'providers:\n  m: { kind: mock }\nmodels:\n  - { name: x, provider: m }\n';
  assert.equal(loadConfig({ path: yamlFile(`server: { workers: auto }\n${minimal}`), env: {} }).server.workers, 'auto');
  assert.equal(workerCount('auto'), availableParallelism());
  assert.equal(workerCount(3), 3);
  assert.throws(() => loadConfig({ path: yamlFile(`server: { workers: 0 }\n${minimal}`), env: {} }), /server\.workers/);
});
