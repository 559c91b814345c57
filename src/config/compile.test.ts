import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashKey } from '../core/key-hash.ts';
import { compileConfig } from './compile.ts';
import { ConfigError } from './load.ts';
import { configSchema, type Config } from './schema.ts';
import { maskSecret, resolveSecret } from './secrets.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-compile-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const config = (raw: unknown): Config => configSchema.parse(raw);

function compileError(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    compileConfig(config(raw), env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.message;
  }
  assert.fail('compileConfig did not throw');
}

test('compile builds the model table with upstream names and freezes the snapshot', () => {
  const compiled = compileConfig(config({
    providers: { mock: { kind: 'mock' }, oa: { kind: 'openai' } },
    models: [
      { name: 'chat', provider: 'mock' },
      { name: 'fast', provider: 'oa', upstream_model: 'gpt-4o-mini' },
      { name: 'emb', provider: 'oa', type: 'embedding' },
    ],
  }), {});
  assert.deepEqual(compiled.models.get('chat'), { name: 'chat', upstreamModel: 'chat', providerId: 'mock', deploymentId: 'mock:chat', type: 'chat' });
  assert.deepEqual(compiled.models.get('fast'), {
    name: 'fast', upstreamModel: 'gpt-4o-mini', providerId: 'oa', deploymentId: 'oa:gpt-4o-mini', type: 'chat',
    pricing: { input: 0.15, output: 0.6, cachedInput: 0.075, cacheWrite: 0.15 }, // from the built-in catalog
  });
  assert.equal(compiled.models.get('emb')!.type, 'embedding');
  assert.equal(compiled.keyHashes.size, 0);
  assert.ok(Object.isFrozen(compiled));
});

test('auth keys resolve through env: and file: and are stored as sha256 → id', () => {
  const keyFile = join(dir, 'key.txt');
  writeFileSync(keyFile, '  file-secret\n');
  const compiled = compileConfig(config({
    providers: { mock: { kind: 'mock' } },
    models: [{ name: 'm', provider: 'mock' }],
    auth: { keys: [{ id: 'a', key: 'env:KEY_A' }, { id: 'b', key: `file:${keyFile}` }, { id: 'c', key: 'literal-key' }] },
  }), { KEY_A: 'secret-a' });
  assert.deepEqual(compiled.keyHashes.get(hashKey('secret-a')), { id: 'a' });
  assert.deepEqual(compiled.keyHashes.get(hashKey('file-secret')), { id: 'b' });
  assert.deepEqual(compiled.keyHashes.get(hashKey('literal-key')), { id: 'c' });
  assert.equal(hashKey('x'), '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  assert.ok(![...compiled.keyHashes.keys()].includes('secret-a'));
});

test('config keys carry an issued key\'s attributes as one frozen Principal; a model they name must exist', () => {
  const base = { providers: { mock: { kind: 'mock' } }, models: [{ name: 'm', provider: 'mock' }] };
  const compiled = compileConfig(config({
    ...base,
    auth: { keys: [{ id: 'k', key: 'kk', name: 'ci', user: 'ann', team: 'blue', models: ['m'], rpm: 5, tpm: 1000, max_parallel: 2, daily_budget_usd: 1.5, monthly_budget_usd: 20 }] },
  }), {});
  const principal = compiled.keyHashes.get(hashKey('kk'))!;
  assert.deepEqual(principal, {
    id: 'k', name: 'ci', user: 'ann', team: 'blue', allowedModels: ['m'],
    limits: { requestsPerMinute: 5, tokensPerMinute: 1000, maxParallel: 2 }, budget: { dailyUsd: 1.5, monthlyUsd: 20 },
  });
  assert.ok(Object.isFrozen(principal) && Object.isFrozen(principal.limits) && Object.isFrozen(principal.allowedModels));
  assert.match(compileError({ ...base, auth: { keys: [{ id: 'k', key: 'kk', models: ['nope'] }] } }), /auth\.keys\.0\.models: unknown model "nope"/);
});

test('pricing: the config override over the catalog entry of the upstream model; neither → undefined', () => {
  const compiled = compileConfig(config({
    providers: { mock: { kind: 'mock' } },
    models: [
      { name: 'sonnet', provider: 'mock', upstream_model: 'claude-sonnet-4-20250514' },
      { name: 'cheap', provider: 'mock', upstream_model: 'claude-sonnet-4-20250514', pricing: { input_per_mtok: 1, output_per_mtok: 2 } },
      { name: 'own', provider: 'mock', pricing: { input_per_mtok: 1, output_per_mtok: 2, cached_input_per_mtok: 0.1 } },
      { name: 'free', provider: 'mock' },
    ],
  }), {});
  assert.deepEqual(compiled.models.get('sonnet')!.pricing, { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 });
  assert.deepEqual(compiled.models.get('cheap')!.pricing, { input: 1, output: 2, cachedInput: 0.3, cacheWrite: 3.75 });
  assert.deepEqual(compiled.models.get('own')!.pricing, { input: 1, output: 2, cachedInput: 0.1, cacheWrite: 1 });
  assert.equal(compiled.models.get('free')!.pricing, undefined);
});

test('a model naming an unknown provider: dotted key and the configured providers', () => {
  const message = compileError({ providers: { mock: { kind: 'mock' } }, models: [{ name: 'x', provider: 'mock' }, { name: 'y', provider: 'nope' }] });
  assert.match(message, /^invalid config: models\.1\.provider: /, 'one problem, one line; the caller adds the source (cli/validated-config.ts)');
  assert.match(message, /models\.1\.provider: unknown provider "nope" \(configured: mock\)/);
});

test('a duplicate model name is reported at its second position', () => {
  const message = compileError({ providers: { mock: { kind: 'mock' } }, models: [{ name: 'dup', provider: 'mock' }, { name: 'dup', provider: 'mock' }] });
  assert.match(message, /models\.1\.name: "dup" is configured twice/);
  assert.doesNotMatch(message, /models\.0/);
});

test('an embedding model on an anthropic provider is rejected', () => {
  const message = compileError({ providers: { ant: { kind: 'anthropic' } }, models: [{ name: 'e', provider: 'ant', type: 'embedding' }] });
  assert.match(message, /models\.0\.type: provider "ant" \(anthropic\) has no embeddings API/);
});

test('openai-compatible without base_url is rejected; with it, accepted', () => {
  const message = compileError({ providers: { local: { kind: 'openai-compatible' } }, models: [{ name: 'm', provider: 'local' }] });
  assert.match(message, /providers\.local\.base_url: required for kind openai-compatible/);
  assert.doesNotThrow(() => compileConfig(config({ providers: { local: { kind: 'openai-compatible', base_url: 'http://127.0.0.1:1/v1' } }, models: [{ name: 'm', provider: 'local' }] }), {}));
});

test('a mock error_rates key that is not an injectable class names the key and the allowed ones', () => {
  const message = compileError({ providers: { m: { kind: 'mock', error_rates: { rate_limit: 0.1, explode: 0.5 } } }, models: [{ name: 'x', provider: 'm' }] });
  assert.match(message, /providers\.m\.error_rates\.explode: expected one of rate_limit, server_error, timeout/);
  assert.doesNotMatch(message, /error_rates\.rate_limit/);
});

test('unresolvable auth keys are reported with their reason; all problems are listed together', () => {
  const message = compileError({
    providers: { m: { kind: 'mock' } },
    models: [{ name: 'x', provider: 'ghost' }],
    auth: { keys: [{ id: 'a', key: 'env:MISSING_KEY' }, { id: 'b', key: `file:${join(dir, 'nope')}` }] },
  });
  assert.match(message, /auth\.keys\.0\.key: environment variable MISSING_KEY is not set/);
  assert.match(message, /auth\.keys\.1\.key: cannot read .*nope: ENOENT/);
  assert.match(message, /models\.0\.provider: unknown provider "ghost"/);
  assert.equal(message.split('\n').filter((l) => l.startsWith('  - ')).length, 3);
});

test('no model at all is an error, not a gateway that answers 404 to everything', () => {
  const message = compileError({ providers: { mock: { kind: 'mock' } }, models: [] });
  assert.equal(message, 'invalid config: models: none configured, so every request would answer 404; add at least one (see vigil.example.yaml)');
});

test('ConfigError.withSource: the same problems under a header naming the file or the embedded defaults', () => {
  const one = ConfigError.fromProblems(['models: none configured']);
  assert.equal(one.withSource('/etc/vigil.yaml').message, 'invalid config /etc/vigil.yaml: models: none configured');
  const two = ConfigError.fromProblems(['a: x', 'b: y']).withSource('(embedded defaults)');
  assert.equal(two.message, 'invalid config (embedded defaults):\n  - a: x\n  - b: y');
  const plain = new ConfigError('cannot read config file /nope');
  assert.equal(plain.withSource('/nope'), plain, 'a message that is not a problem list already says what it is about');
});

test('resolveSecret: env:, file: (trimmed), literal, and failures', () => {
  const path = join(dir, 'secret');
  writeFileSync(path, 'from-file\n');
  assert.deepEqual(resolveSecret('env:A', { A: 'va' }), { ok: true, value: 'va' });
  assert.deepEqual(resolveSecret('env:A', {}), { ok: false, reason: 'environment variable A is not set' });
  assert.deepEqual(resolveSecret('env:A', { A: '' }), { ok: false, reason: 'environment variable A is not set' });
  assert.deepEqual(resolveSecret(`file:${path}`, {}), { ok: true, value: 'from-file' });
  assert.deepEqual(resolveSecret(`file:${dir}/absent`, {}), { ok: false, reason: `cannot read ${dir}/absent: ENOENT` });
  assert.deepEqual(resolveSecret(`file:${dir}`, {}), { ok: false, reason: `cannot read ${dir}: EISDIR` });
  assert.deepEqual(resolveSecret('sk-plain', {}), { ok: true, value: 'sk-plain' });
});

test('maskSecret keeps references readable and hides literals', () => {
  assert.equal(maskSecret('env:OPENAI_API_KEY'), 'env:OPENAI_API_KEY');
  assert.equal(maskSecret('file:/run/secrets/key'), 'file:/run/secrets/key');
  assert.equal(maskSecret('sk-live-123456'), '****');
  assert.equal(maskSecret(''), '****');
});

test('provider keys and headers resolve here, once: a reference that does not resolve leaves that provider unusable, not the config invalid', () => {
  const compiled = compileConfig(config({
    providers: {
      mock: { kind: 'mock' },
      oa: { kind: 'openai', api_key: 'env:OA_KEY', headers: { 'X-Org': 'env:OA_ORG', 'x-plain': 'v' } },
      nokey: { kind: 'anthropic', api_key: 'env:UNSET_KEY' },
      badheader: { kind: 'openai', headers: { 'X-Token': 'env:UNSET_TOKEN' } },
    },
    models: [{ name: 'm', provider: 'oa' }],
  }), { OA_KEY: 'sk-oa-resolved', OA_ORG: 'org-1' });
  assert.deepEqual([...compiled.providerCredentials.keys()], ['oa', 'nokey', 'badheader'], 'the mock has none');
  assert.deepEqual(compiled.providerCredentials.get('oa'), { apiKey: 'sk-oa-resolved', headers: { 'x-org': 'org-1', 'x-plain': 'v' }, unavailableReason: undefined });
  assert.equal(compiled.providerCredentials.get('nokey')!.unavailableReason, 'api_key: environment variable UNSET_KEY is not set');
  assert.equal(compiled.providerCredentials.get('badheader')!.unavailableReason, 'headers.X-Token: environment variable UNSET_TOKEN is not set');
});

test('OTLP headers resolve here when an endpoint is set; one that does not resolve names the key and stops start-up', () => {
  const otlp = (headers: Record<string, string>, endpoint?: string) => ({
    providers: { mock: { kind: 'mock' } }, models: [{ name: 'm', provider: 'mock' }], telemetry: { otlp: { endpoint, headers } },
  });
  const headers = { Authorization: 'env:OTLP_TOKEN', 'x-org': '42' };
  assert.deepEqual(compileConfig(config(otlp(headers, 'http://c:4317')), { OTLP_TOKEN: 'Bearer t' }).otlpHeaders, { authorization: 'Bearer t', 'x-org': '42' });
  assert.match(compileError(otlp(headers, 'http://c:4317')), /telemetry\.otlp\.headers\.Authorization: environment variable OTLP_TOKEN is not set/);
  assert.deepEqual(compileConfig(config(otlp(headers)), {}).otlpHeaders, {}, 'no endpoint: nothing is sent, nothing to resolve');
});

test('admin token, store and Redis URLs: resolved once here, checked for shape', () => {
  const base = { providers: { mock: { kind: 'mock' } }, models: [{ name: 'm', provider: 'mock' }] };
  const ok = compileConfig(configSchema.parse({
    ...base, auth: { admin_token: 'env:ADMIN' }, store: { url: 'env:PG' }, redis: { url: 'redis://127.0.0.1:6379' },
  }), { ADMIN: 'a-long-enough-admin-token', PG: 'postgres://u@h/db' });
  assert.equal(ok.adminToken, 'a-long-enough-admin-token');
  assert.equal(ok.storeUrl, 'postgres://u@h/db');
  assert.equal(ok.redisUrl, 'redis://127.0.0.1:6379');
  assert.throws(() => compileConfig(configSchema.parse({ ...base, auth: { admin_token: 'short' }, store: { url: 'mysql://x' }, redis: { url: 'env:NOPE' } }), {}),
    (err: Error) => /auth\.admin_token: at least 16/.test(err.message) && /store\.url: expected postgres/.test(err.message) && /redis\.url: /.test(err.message));
});

test('aliases: deployments over the routing defaults, per-deployment prices and provider instances with their own credentials', () => {
  const compiled = compileConfig(config({
    providers: { oa: { kind: 'openai', api_key: 'env:OA' }, ant: { kind: 'anthropic', api_key: 'env:ANT' } },
    routing: { strategy: 'weighted', retry: { backoff_ms: 50 } },
    models: [
      {
        name: 'smart', strategy: 'least_in_flight', fallbacks: ['fast'], retry: { attempts: 4 },
        deployments: [
          { provider: 'oa', upstream_model: 'gpt-4o', weight: 3 },
          { provider: 'oa', upstream_model: 'gpt-4o', id: 'oa-eu', base_url: 'https://eu.example/v1', api_key: 'env:EU', pricing: { input_per_mtok: 9, output_per_mtok: 9 } },
        ],
      },
      { name: 'fast', provider: 'ant', upstream_model: 'claude-x', pricing: { input_per_mtok: 1, output_per_mtok: 2 } },
    ],
  }), { OA: 'k1', ANT: 'k2', EU: 'k3' });
  const smart = compiled.aliases.get('smart')!;
  assert.deepEqual(smart.deployments.map((d) => [d.deploymentId, d.providerId, d.weight, d.pricing?.input]), [['oa:gpt-4o', 'oa', 3, 2.5], ['oa-eu', 'oa-eu', 1, 9]]);
  assert.deepEqual([smart.strategy, smart.retry.attempts, smart.retry.backoffMs, [...smart.fallbacks]], ['least_in_flight', 4, 50, ['fast']]);
  const fast = compiled.aliases.get('fast')!;
  assert.deepEqual([fast.strategy, fast.retry.attempts, fast.deployments[0].pricing?.output], ['weighted', 1, 2]);
  assert.equal(compiled.providerCredentials.get('oa-eu')!.apiKey, 'k3');
  assert.deepEqual(compiled.providerInstances.get('oa-eu'), { provider: 'oa', baseUrl: 'https://eu.example/v1', apiKey: 'env:EU' });
  assert.equal(compiled.models.get('smart')!.deploymentId, 'oa:gpt-4o');
});

test('aliases: unknown providers and fallbacks, fallback loops, type mismatches and conflicting deployment ids are refused', () => {
  const message = compileError({
    providers: { oa: { kind: 'openai' } },
    models: [
      { name: 'a', provider: 'oa', fallbacks: ['b', 'ghost', 'emb'] },
      { name: 'b', provider: 'oa', fallbacks: ['a'] },
      { name: 'c', deployments: [{ provider: 'nope' }, { provider: 'oa', base_url: 'https://x.example' }, { provider: 'oa', upstream_model: 'c' }] },
      { name: 'd', deployments: [{ provider: 'oa', id: 'shared', upstream_model: 'one' }] },
      { name: 'e', deployments: [{ provider: 'oa', id: 'shared', upstream_model: 'two' }] },
      { name: 'emb', provider: 'oa', type: 'embedding' },
    ],
  });
  assert.match(message, /models\.0\.fallbacks\.1: unknown model "ghost"/);
  assert.match(message, /models\.0\.fallbacks\.2: "emb" is a embedding model/);
  assert.match(message, /models\.0\.fallbacks: the chain a → b → a/);
  assert.match(message, /models\.2\.deployments\.0\.provider: unknown provider "nope"/);
  assert.match(message, /models\.2\.deployments\.1\.id: required with base_url or api_key/);
  assert.match(message, /models\.2\.deployments\.2: deployment "oa:c" appears twice/);
  assert.match(message, /models\.4\.deployments\.0: deployment id "shared" already names another upstream/);
});
