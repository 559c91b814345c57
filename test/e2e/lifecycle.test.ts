// Operating the gateway: graceful drain on SIGTERM, usage records persisted, gateway keys, readiness,
// and the CLI's config check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { NODE_BIN, REPO_ROOT, startGateway } from '../helpers/gateway.ts';
import { ledgerRows } from '../helpers/ledger.ts';
import { rejectsAs, userMessage } from '../helpers/stack.ts';

const slowMock = {
  providers: { mock: { kind: 'mock', stream_tokens_per_second: 20, completion_tokens: 16 } },
  models: [{ name: 'mock-chat', provider: 'mock' }],
};

/** Writes one raw HTTP/1.1 request on a socket of its own and collects everything the gateway sends back until it closes. */
function rawConnection(url: string, request: string): { socket: Socket; received: () => string; closed: Promise<void> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
  const closed = new Promise<void>((ok) => socket.once('close', () => ok()));
  socket.on('error', () => {});
  socket.write(request);
  return { socket, received: () => text, closed };
}

const chatRequest = (body: object) => {
  const json = JSON.stringify(body);
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
};

test('SIGTERM: readiness falls, new connections are refused, in-flight streams finish whole, usage is written, exit 0', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-drain-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const gateway = await startGateway(slowMock, { VIGIL_DATA_DIR: dataDir });
  t.after(() => gateway.stop());
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'mock-chat', messages: userMessage('drain me'), stream: true });
  // A second stream on a raw connection: once the listener has closed, a request written on this busy
  // connection is the only way left to ask the draining process for /readyz.
  const raw = rawConnection(gateway.url, chatRequest({ model: 'mock-chat', messages: userMessage('drain me too'), stream: true }));

  const parts: string[] = [];
  let stopped: Promise<void> | undefined;
  for await (const chunk of stream) {
    parts.push(chunk.choices[0]?.delta?.content ?? '');
    if (!stopped && parts.join('').length > 0) {
      stopped = gateway.stop(); // SIGTERM while ~0.8 s of stream remains
      await new Promise((r) => setTimeout(r, 100));
      await assert.rejects(fetch(`${gateway.url}/readyz`), 'new connections are refused while draining');
      assert.match(raw.received(), /^HTTP\/1\.1 200 /, 'the raw stream is in flight');
      raw.socket.write('GET /readyz HTTP/1.1\r\nHost: gateway\r\n\r\n');
    }
  }
  const text = parts.join('');
  assert.equal(text.split(' ').length, 16, `the whole reply arrived: "${text}"`);

  assert.ok(stopped);
  await stopped;
  assert.equal(gateway.exitCode(), 0, `exit code 0\n${gateway.stderr()}`);
  const stoppedLine = gateway.logRecords().find((r) => r.msg === 'stopped');
  assert.ok(stoppedLine, 'the gateway logged "stopped"');
  assert.equal(gateway.logRecords().find((r) => r.msg === 'draining')?.signal, 'SIGTERM');
  assert.ok(!gateway.logRecords().some((r) => r.msg === 'drain timeout reached; closing remaining connections'));

  // The raw connection got its whole stream, then the /readyz answer it asked for while draining.
  await raw.closed;
  const [streamed, ready] = raw.received().split(/(?=HTTP\/1\.1 )/);
  assert.match(streamed, /data: \[DONE\]/, 'the raw stream ran to its end');
  assert.ok(ready, `a /readyz response followed the stream:\n${raw.received()}`);
  assert.match(ready, /^HTTP\/1\.1 503 /);
  const readyBody = JSON.parse(ready.slice(ready.indexOf('\r\n\r\n') + 4));
  assert.equal(readyBody.status, 'fail');
  assert.deepEqual(readyBody.components.lifecycle, { status: 'fail', detail: 'draining' });
  assert.equal(readyBody.components.store.status, 'ok');

  const rows = ledgerRows(dataDir);
  assert.equal(rows.length, 2, 'both streams are recorded');
  for (const row of rows) {
    assert.equal(row.model, 'mock-chat');
    assert.equal(row.provider, 'mock');
    assert.equal(row.output_tokens, 16);
    assert.equal(row.stream, 1);
    assert.equal(row.status, 200);
  }
});

test('SIGTERM with a stream longer than server.drain_timeout_ms: the stream is cut at the timeout, usage is still written, exit 0', async (t) => {
  const DRAIN_TIMEOUT_MS = 400;
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-drain-timeout-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const gateway = await startGateway({
    server: { drain_timeout_ms: DRAIN_TIMEOUT_MS },
    // 100 tokens at 20/s: a 5 s stream, far past the drain timeout.
    providers: { mock: { kind: 'mock', stream_tokens_per_second: 20, completion_tokens: 100 } },
    models: [{ name: 'mock-chat', provider: 'mock' }],
  }, { VIGIL_DATA_DIR: dataDir });
  t.after(() => gateway.stop());
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'mock-chat', messages: userMessage('cut me'), stream: true });

  const parts: string[] = [];
  let signalledAt = 0;
  let stopped: Promise<void> | undefined;
  let streamError: unknown;
  try {
    for await (const chunk of stream) {
      parts.push(chunk.choices[0]?.delta?.content ?? '');
      if (!stopped && parts.join('').length > 0) {
        signalledAt = Date.now();
        stopped = gateway.stop();
      }
    }
  } catch (err) {
    streamError = err;
  }
  const cutAfterMs = Date.now() - signalledAt;
  assert.ok(stopped);
  await stopped;
  const exitedAfterMs = Date.now() - signalledAt;

  const words = parts.join('').split(' ').filter(Boolean).length;
  assert.ok(words > 1 && words < 100, `the stream was cut part way (${words} of 100 words)`);
  assert.ok(streamError instanceof Error, `the client saw the stream break off (${String(streamError)})`);
  assert.ok(cutAfterMs >= DRAIN_TIMEOUT_MS - 50, `the stream kept flowing until the drain timeout (cut after ${cutAfterMs} ms)`);
  assert.ok(cutAfterMs < DRAIN_TIMEOUT_MS + 1500, `the stream was cut soon after the drain timeout (${cutAfterMs} ms)`);
  assert.ok(exitedAfterMs < DRAIN_TIMEOUT_MS + 3000, `the process exited within a bound of the timeout (${exitedAfterMs} ms)`);
  assert.equal(gateway.exitCode(), 0, `exit code 0\n${gateway.stderr()}`);
  const records = gateway.logRecords();
  assert.ok(records.some((r) => r.msg === 'drain timeout reached; closing remaining connections' && r.level === 'warn'));
  assert.ok(records.some((r) => r.msg === 'stopped'));

  const rows = ledgerRows(dataDir);
  assert.equal(rows.length, 1, 'the cut stream is recorded');
  assert.equal(rows[0].model, 'mock-chat');
  assert.equal(rows[0].provider, 'mock');
  assert.equal(rows[0].stream, 1);
  // The gateway cut it, not the client: a 503 of its own (counted against availability), not a 499.
  assert.equal(rows[0].status, 503);
  assert.equal(rows[0].error_class, 'unavailable');
  const line = records.find((r) => r.msg === 'request failed');
  assert.equal(line?.error_code, 'GW_UNAVAILABLE_DRAINING', 'the request line names the drain');
  assert.ok(rows[0].duration_ms >= DRAIN_TIMEOUT_MS, `duration ${rows[0].duration_ms} ms covers the drain`);
});

test('SIGTERM with a connection open that never sent a request: the drain does not wait for it, exit 0', async (t) => {
  // server.drain_timeout_ms at its 30 s default: waiting for the idle connection would show.
  const gateway = await startGateway({ providers: { mock: { kind: 'mock' } }, models: [{ name: 'mock-chat', provider: 'mock' }] });
  t.after(() => gateway.stop());
  const { hostname, port } = new URL(gateway.url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  await new Promise<void>((ok) => socket.once('connect', () => ok()));
  const closed = new Promise<void>((ok) => socket.once('close', () => ok()));
  const started = Date.now();
  await gateway.stop();
  const tookMs = Date.now() - started;
  await closed;
  assert.equal(gateway.exitCode(), 0, `exit code 0\n${gateway.stderr()}`);
  assert.ok(tookMs < 5000, `stopped in ${tookMs} ms, not after the drain timeout`);
  assert.ok(!gateway.logRecords().some((r) => r.msg === 'drain timeout reached; closing remaining connections'));
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

test('readiness names a provider whose key does not resolve; its models answer 500 (not retryable), others keep working', async (t) => {
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
  assert.equal(err.status, 500);
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
  assert.match(metrics, /vigil_llm_calls_total\{provider="flaky",model="flaky-chat",outcome="provider_error"\} 1/);
  assert.match(metrics, /vigil_llm_call_errors_total\{provider="flaky",model="flaky-chat",error_class="rate_limit"\} 1/);
});

test('vigil config check: prints the effective config with literal secrets masked; names the bad key on error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
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
