// Operating the gateway: graceful drain on SIGTERM, usage records persisted, gateway keys, readiness,
// and the CLI's config check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { NODE_BIN, REPO_ROOT, startGateway } from '../helpers/gateway.ts';
import { rejectsAs, userMessage } from '../helpers/stack.ts';

const slowMock = {
  providers: { mock: { kind: 'mock', stream_tokens_per_second: 20, completion_tokens: 16 } },
  models: [{ name: 'mock-chat', provider: 'mock' }],
};

test('SIGTERM: readiness falls, the in-flight stream finishes whole, usage is written, exit 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-drain-'));
  const gateway = await startGateway(slowMock, { VIGIL_DATA_DIR: dataDir });
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'mock-chat', messages: userMessage('drain me'), stream: true });

  const parts: string[] = [];
  let signalled = false;
  for await (const chunk of stream) {
    parts.push(chunk.choices[0]?.delta?.content ?? '');
    if (!signalled && parts.join('').length > 0) {
      signalled = true;
      const stopped = gateway.stop(); // SIGTERM while ~0.8 s of stream remains
      void stopped;
      await new Promise((r) => setTimeout(r, 100));
      await assert.rejects(fetch(`${gateway.url}/readyz`), 'new connections are refused while draining');
    }
  }
  const text = parts.join('');
  assert.equal(text.split(' ').length, 16, `the whole reply arrived: "${text}"`);

  await gateway.waitForLog((r) => r.msg === 'stopped', 10_000);
  const db = new DatabaseSync(join(dataDir, 'vigil.db'), { readOnly: true });
  const rows = db.prepare('SELECT * FROM usage_records').all() as Record<string, any>[];
  db.close();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].model, 'mock-chat');
  assert.equal(rows[0].provider, 'mock');
  assert.equal(rows[0].output_tokens, 16);
  assert.equal(rows[0].stream, 1);
  assert.equal(rows[0].status, 200);
});

test('gateway keys: SDKs get AuthenticationError without or with a wrong key; the right key works and names the identity', async (t) => {
  const gateway = await startGateway(
    { auth: { keys: [{ id: 'team-search', key: 'env:TEST_GATEWAY_KEY' }] }, providers: { mock: { kind: 'mock' } }, models: [{ name: 'mock-chat', provider: 'mock' }] },
    { TEST_GATEWAY_KEY: 'vk-secret-123' },
  );
  t.after(() => gateway.stop());
  const openai = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });

  const wrong = await rejectsAs(openai('vk-wrong').chat.completions.create({ model: 'mock-chat', messages: userMessage('hi') }), OpenAI.AuthenticationError);
  assert.equal((wrong.error as any)?.code, 'GW_AUTH_INVALID_KEY');
  const anthropicWrong = new Anthropic({ baseURL: gateway.url, apiKey: 'vk-wrong', maxRetries: 0 });
  await rejectsAs(anthropicWrong.messages.create({ model: 'mock-chat', max_tokens: 5, messages: userMessage('hi') }), Anthropic.AuthenticationError);

  const ok = await openai('vk-secret-123').chat.completions.create({ model: 'mock-chat', messages: userMessage('hi') });
  assert.ok(ok.choices[0].message.content);
  const viaAnthropic = await new Anthropic({ baseURL: gateway.url, apiKey: 'vk-secret-123', maxRetries: 0 })
    .messages.create({ model: 'mock-chat', max_tokens: 5, messages: userMessage('hi') });
  assert.equal(viaAnthropic.type, 'message');

  const line = await gateway.waitForLog((r) => r.msg === 'request' && r.status === 200);
  assert.equal(line.identity_id, 'team-search');
  assert.ok(!gateway.logs().join('\n').includes('vk-secret-123'), 'the key never reaches the log');
});

test('readiness names a provider whose key does not resolve; its models answer 503, others keep working', async (t) => {
  const gateway = await startGateway({
    providers: { mock: { kind: 'mock' }, openai: { kind: 'openai', api_key: 'env:VIGIL_TEST_UNSET_KEY' } },
    models: [{ name: 'mock-chat', provider: 'mock' }, { name: 'gpt-4.1-mini', provider: 'openai' }],
  });
  t.after(() => gateway.stop());
  const ready = await (await fetch(`${gateway.url}/readyz`)).json();
  assert.equal(ready.status, 'ok');
  assert.match(ready.components['provider:openai'].detail, /VIGIL_TEST_UNSET_KEY is not set/);
  const live = await fetch(`${gateway.url}/healthz`);
  assert.equal(live.status, 200);

  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const err = await rejectsAs(client.chat.completions.create({ model: 'gpt-4.1-mini', messages: userMessage('hi') }), OpenAI.APIError);
  assert.equal(err.status, 503);
  assert.equal((err.error as any)?.code, 'GW_PROVIDER_UNAVAILABLE');
  const ok = await client.chat.completions.create({ model: 'mock-chat', messages: userMessage('hi') });
  assert.equal(ok.object, 'chat.completion');
});

test('injected mock failures surface as the matching SDK error and error_class metric', async (t) => {
  const gateway = await startGateway({
    providers: { flaky: { kind: 'mock', error_rates: { rate_limit: 1 } } },
    models: [{ name: 'flaky-chat', provider: 'flaky' }],
  });
  t.after(() => gateway.stop());
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  await rejectsAs(client.chat.completions.create({ model: 'flaky-chat', messages: userMessage('hi') }), OpenAI.RateLimitError);
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.match(metrics, /vigil_llm_calls_total\{provider="flaky",model="flaky-chat",status="rate_limit"\} 1/);
  assert.match(metrics, /vigil_llm_call_errors_total\{provider="flaky",model="flaky-chat",error_class="rate_limit"\} 1/);
});

test('vigil config check: prints the effective config with literal secrets masked; names the bad key on error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-check-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'providers:\n  vllm: { kind: openai-compatible, base_url: "http://127.0.0.1:8000/v1", api_key: sk-literal-secret }\nmodels:\n  - { name: llama, provider: vllm }\n');
  const ok = spawnSync(NODE_BIN, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'config', 'check', '--config', good], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /api_key: "\*\*\*\*"/);
  assert.ok(!ok.stdout.includes('sk-literal-secret'));
  assert.match(ok.stdout, /port: 8080/, 'defaults are filled in');

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'server: { port: "eighty" }\nproviders: {}\nmodels:\n  - { name: x, provider: nowhere }\n');
  const failed = spawnSync(NODE_BIN, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'config', 'check', '--config', bad], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /server\.port: .*expected number/i);
});
