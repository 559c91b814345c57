// server.workers: 2 — requests spread over both workers; /metrics from any worker (and from the
// primary's dedicated listener) is the exact cluster-wide total; gauges combine by their meaning;
// counters survive a worker crash; SIGTERM drains every worker, the primary exits 0, and every usage
// record from every worker is in SQLite.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, startGateway } from '../helpers/gateway.ts';
import { ledgerRows } from '../helpers/ledger.ts';
import { call, samples, total } from '../helpers/scrape.ts';

const N = 24;
const STREAMS = 4;
const delay = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'hello' }] });
const CHAT = { route: '/v1/chat/completions', method: 'POST', status: '200', outcome: 'success' };

test('two workers: exact aggregated metrics, crash restart, graceful drain, every usage record written', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-cluster-'));
  const metricsPort = await freePort();
  const gateway = await startGateway({
    server: { workers: 2, drain_timeout_ms: 10_000 },
    store: { flush_interval_ms: 50 },
    metrics: { listener: { enabled: true, host: '127.0.0.1', port: metricsPort } },
    providers: { mock: { kind: 'mock' }, slow: { kind: 'mock', stream_tokens_per_second: 10, completion_tokens: 12 } },
    models: [{ name: 'mock-chat', provider: 'mock' }, { name: 'slow-chat', provider: 'slow' }],
  }, { VIGIL_DATA_DIR: dataDir });
  t.after(() => gateway.stop());
  await gateway.waitForLog((r) => r.msg === 'all workers listening', 15_000);
  const scrapeUrls = [`${gateway.url}/metrics`, `http://127.0.0.1:${metricsPort}/metrics`];

  // N requests, each on a new connection: round-robin hands them to the workers in turn.
  for (let i = 0; i < N; i++) {
    const res = await call(`${gateway.url}/v1/chat/completions`, { body: chat('mock-chat') });
    assert.equal(res.status, 200, res.body);
  }
  const workerPids = () => new Set(gateway.logRecords().filter((r) => r.msg === 'request').map((r) => r.pid));
  // Request lines leave in batches, a partial one within 200 ms (telemetry/log.ts).
  for (let waited = 0; workerPids().size < 2 && waited < 2000; waited += 50) await delay(50);
  assert.equal(workerPids().size, 2, 'both workers served requests');

  // Several scrapes on new connections land on both workers; each must show the whole cluster.
  for (let i = 0; i < 6; i++) {
    const res = await call(scrapeUrls[i % 3 === 2 ? 1 : 0]);
    assert.equal(res.status, 200);
    assert.equal(total(res.body, 'vigil_http_requests_total', CHAT), N, `scrape ${i}`);
    assert.equal(total(res.body, 'vigil_llm_calls_total', { model: 'mock-chat' }), N);
    assert.equal(total(res.body, 'vigil_http_request_duration_seconds_count', { route: CHAT.route }), N, 'histograms sum');
    assert.deepEqual(samples(res.body, 'vigil_build_info'), [1], 'build_info once, value 1');
    assert.equal(res.body.match(/^# TYPE vigil_http_requests_total /gm)?.length, 1, 'each family once');
  }
  const om = await call(scrapeUrls[1], { headers: { accept: 'application/openmetrics-text' } });
  assert.match(String(om.headers['content-type']), /^application\/openmetrics-text/);
  assert.equal(total(om.body, 'vigil_http_requests_total', CHAT), N);
  assert.ok(om.body.endsWith('# EOF\n'));

  // In-flight gauges sum: STREAMS slow streams spread over both workers, all open at once.
  let started = 0;
  const streams = Array.from({ length: STREAMS }, () =>
    call(`${gateway.url}/v1/chat/completions`, { body: chat('slow-chat', true), onFirstByte: () => { started++; } }));
  while (started < STREAMS) await delay(10);
  const during = await call(scrapeUrls[1]);
  assert.equal(total(during.body, 'vigil_http_requests_in_flight', { route: CHAT.route }), STREAMS, 'in-flight summed over workers');
  const done = await Promise.all(streams);
  assert.ok(done.every((r) => r.status === 200 && r.body.includes('[DONE]')));
  const after = await call(scrapeUrls[0]);
  assert.equal(total(after.body, 'vigil_http_requests_in_flight', { route: CHAT.route }), 0);
  assert.equal(total(after.body, 'vigil_http_requests_total', CHAT), N + STREAMS);

  // A worker that dies is restarted, and the totals it counted stay in the sum (no false counter reset).
  await delay(300); // its usage records are flushed (flush_interval_ms: 50)
  const victim = [...workerPids()][0] as number;
  process.kill(victim, 'SIGKILL');
  const restart = await gateway.waitForLog((r) => r.msg === 'worker exited unexpectedly; restarting' && r.pid === victim, 5000);
  assert.equal(restart.signal, 'SIGKILL');
  assert.ok(restart.restart_in_ms > 0);
  await gateway.waitForLog((r) => r.msg === 'vigil listening' && r.pid !== victim && !workerPids().has(r.pid), 15_000);
  for (const url of [...scrapeUrls, ...scrapeUrls]) {
    const res = await call(url);
    assert.equal(total(res.body, 'vigil_http_requests_total', CHAT), N + STREAMS, `after the restart, via ${url}`);
    assert.equal(total(res.body, 'vigil_llm_calls_total', { model: 'mock-chat' }), N);
    assert.deepEqual(samples(res.body, 'vigil_build_info'), [1]);
  }

  // SIGTERM: the primary tells the workers to drain; an open stream finishes whole; exit 0.
  let streamStarted = false;
  const lastStream = call(`${gateway.url}/v1/chat/completions`, { body: chat('slow-chat', true), onFirstByte: () => { streamStarted = true; } });
  while (!streamStarted) await delay(10);
  const stopped = gateway.stop();
  const last = await lastStream;
  assert.ok(last.body.includes('[DONE]'), 'the in-flight stream completed during the drain');
  await stopped;
  assert.equal(gateway.exitCode(), 0, gateway.stderr());
  assert.ok(gateway.logRecords().some((r) => r.module === 'cluster' && r.msg === 'stopped' && r.exit_code === 0));

  const rows = ledgerRows(dataDir);
  assert.equal(rows.filter((r) => r.model === 'mock-chat').length, N, 'every mock-chat usage record from both workers');
  assert.equal(rows.filter((r) => r.model === 'slow-chat').length, STREAMS + 1);
  assert.ok(rows.every((r) => r.status === 200));
});

test('workers: 1 (the default) runs no cluster: one process, no cluster log lines', async (t) => {
  const gateway = await startGateway({ providers: { mock: { kind: 'mock' } }, models: [{ name: 'mock-chat', provider: 'mock' }] });
  t.after(() => gateway.stop());
  const listening = await gateway.waitForLog((r) => r.msg === 'vigil listening');
  assert.equal(listening.pid, undefined, 'no worker pid binding');
  assert.ok(!gateway.logRecords().some((r) => r.module === 'cluster'));
});
