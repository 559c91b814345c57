// Cost of the per-request bookkeeping at finish (metrics, log line, usage record), one piece at a time.
// Run: node bench/micro/finish.bench.ts — prints nanoseconds per call; no assertions.
import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestContext } from '../../src/core/context.ts';
import { noopReply as reply } from '../../test/helpers/context.ts';
import { createFinish } from '../../src/pipeline/finish.ts';
import { SqliteUsageLedger } from '../../src/store/sqlite/usage-ledger.ts';
import pino from 'pino';
import { LineBatch, type Destination } from '../../src/telemetry/line-batch.ts';
import { createLogs } from '../../src/telemetry/log.ts';
import { Recorder } from '../../src/telemetry/metrics/record.ts';
import { createMetrics } from '../../src/telemetry/metrics/registry.ts';
import { SliWindow } from '../../src/telemetry/sli.ts';

const sink = new Writable({ write(_chunk, _enc, done) { done(); } });

function context(): RequestContext {
  const ctx = new RequestContext({
    requestId: '3f1c2d9e-5b7a-4c1e-9f0a-123456789abc', startedAt: performance.now() - 0.4, route: '/v1/chat/completions',
    method: 'POST', dialect: 'openai', operation: 'chat', reply, headers: {},
  });
  ctx.target = { name: 'bench-model', upstreamModel: 'bench-model', providerId: 'bench', deploymentId: 'test', type: 'chat', pricing: { input: 1, output: 2, cachedInput: 0.5, cacheWrite: 1.25 } };
  ctx.requestedModel = 'bench-model';
  const attempt = ctx.addAttempt(ctx.target);
  attempt.startedAt = 0.1;
  attempt.endedAt = 0.3;
  attempt.status = 200;
  attempt.usage = { inputTokens: 212, outputTokens: 48, cachedInputTokens: 0 };
  return ctx;
}

function time(name: string, iterations: number, fn: () => void): void {
  for (let i = 0; i < iterations / 10; i++) fn(); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - started) / iterations;
  console.log(`${name.padEnd(44)} ${ns.toFixed(0).padStart(7)} ns/call`);
}

const metrics = createMetrics();
const sli = new SliWindow({ windowSeconds: 300, latencyBudgetSeconds: 0.01 });
const recorder = new Recorder(metrics, { version: 'bench', commit: 'bench', models: ['bench-model'], sli });
const logs = createLogs({ level: 'info', format: 'json', version: 'bench' }, sink);
const ledger = new SqliteUsageLedger({ dataDir: mkdtempSync(join(tmpdir(), 'vigil-bench-')), flushIntervalMs: 1000, maxBatch: 1000 });
const N = 200_000;

time('new RequestContext', N, () => void context());
time('recorder.requestStarted + requestFinished', N, () => {
  const ctx = context();
  recorder.requestStarted(ctx.route);
  recorder.requestFinished(ctx, 0.0004);
});
const lineFields = () => ({ request_id: '3f1c2d9e-5b7a-4c1e-9f0a-123456789abc', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331',
  identity_id: 'anonymous', method: 'POST', route: '/v1/chat/completions', status: 200, duration_ms: 0.412, model: 'bench-model', provider: 'bench',
  stream: undefined, input_tokens: 212, output_tokens: 48, error_code: undefined });
time('log line through pino (info, to a null stream)', N, () => logs.module('pipeline').info(lineFields(), 'request'));
const requestLines = logs.requestLines();
time('the request line (requestLines().info)', N, () => requestLines.info(lineFields(), 'request'));
// The stdout path: sonic-boom batching on its own (as before LineBatch) against LineBatch in front of it.
const devNull = async (minLength: number, contentMode: 'utf8' | 'buffer' = 'utf8') => {
  const dest = pino.destination({ dest: '/dev/null', sync: false, minLength, contentMode });
  await new Promise((resolve) => dest.on('ready', resolve));
  return dest;
};
const line = `${JSON.stringify({ level: 'info', time: new Date().toISOString(), service: 'vigil', request_id: '3f1c2d9e-5b7a-4c1e-9f0a-123456789abc', route: '/v1/chat/completions', status: 200, duration_ms: 0.412, model: 'bench-model' })}\n`;
const sonic = await devNull(4096);
time('a line to sonic-boom (minLength 4096)', N, () => void sonic.write(line));
const batched = new LineBatch(await devNull(0, 'buffer') as unknown as Destination);
time('a line through LineBatch to sonic-boom', N, () => void batched.write(line));
// The batched write itself, per record: 1,000 queued records written in transactions of 200, as at load.
const usage = (i: number) => ({
  time: new Date().toISOString(), requestId: `req-${i}`, identityId: 'anonymous', userId: '', teamId: '', route: '/v1/chat/completions', provider: 'bench', model: 'bench-model',
  upstreamModel: 'bench-model', inputTokens: 212, outputTokens: 48, cachedInputTokens: 0, costUsd: 0.0003, durationMs: 0.4, status: 200, errorClass: '', stream: false,
});
time('ledger.append (queued; written in batches)', N, () => ledger.append(usage(0)));
{
  const rounds = 200;
  let ns = 0n;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 1000; i++) ledger.append(usage(i));
    const started = process.hrtime.bigint();
    await ledger.flush();
    if (round >= rounds / 10) ns += process.hrtime.bigint() - started;
  }
  console.log(`${'ledger: writing a queued record'.padEnd(44)} ${(Number(ns) / (rounds * 0.9 * 1000)).toFixed(0).padStart(7)} ns/record`);
}
const finish = createFinish({ recorder, ledger, log: requestLines });
time('finish (all of the above, from a context)', N, () => {
  const ctx = context();
  recorder.requestStarted(ctx.route);
  finish(ctx);
});
await ledger.close();
