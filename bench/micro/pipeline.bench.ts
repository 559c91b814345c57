// The gateway's own work for one proxied chat request, without sockets: every stage from authenticate to
// finish, with the OpenAI-compatible provider answering from memory. Separates Vigil's per-request CPU
// from the HTTP server's and undici's. Run: node bench/micro/pipeline.bench.ts — no assertions.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { compileConfig } from '../../src/config/compile.ts';
import { configSchema } from '../../src/config/schema.ts';
import { RequestContext } from '../../src/core/context.ts';
import { noopReply as reply } from '../../test/helpers/context.ts';
import { buildRoutes } from '../../src/pipeline/endpoints.ts';
import { createFinish } from '../../src/pipeline/finish.ts';
import { buildProviders } from '../../src/providers/registry.ts';
import { DeploymentStats } from '../../src/routing/deployment-stats.ts';
import type { Send } from '../../src/providers/provider.ts';
import { SqliteUsageLedger } from '../../src/store/sqlite/usage-ledger.ts';
import { ConfigKeys } from '../../src/store/memory/config-keys.ts';
import { MemoryCounterStore } from '../../src/store/memory/counters.ts';
import { createLogs } from '../../src/telemetry/log.ts';
import { Recorder } from '../../src/telemetry/metrics/record.ts';
import { createMetrics } from '../../src/telemetry/metrics/registry.ts';
import { SliWindow } from '../../src/telemetry/sli.ts';
import { chatRequest, completionJson } from '../e2e/fixtures.ts';

const config = configSchema.parse({
  providers: { bench: { kind: 'openai-compatible', base_url: 'http://127.0.0.1:1/v1' } },
  models: [{ name: 'bench-model', provider: 'bench' }],
});
const compiled = compileConfig(config);
const answer = Buffer.from(completionJson);
const send: Send = async (ctx, attempt) => {
  attempt.startedAt = performance.now() - ctx.startedAt;
  attempt.status = 200;
  return { status: 200, headers: {}, chunks: (async function* () {})(), bytes: async () => answer, text: async () => completionJson };
};
const providers = buildProviders(compiled, () => send);
const metrics = createMetrics();
const recorder = new Recorder(metrics, { version: 'bench', commit: 'bench', models: compiled.models.keys(), sli: new SliWindow({ windowSeconds: 300, latencyBudgetSeconds: 0.01 }) });
const logs = createLogs({ level: process.env.BENCH_LOG ?? 'info', format: 'json', version: 'bench' }, new Writable({ write(_c, _e, done) { done(); } }));
const ledger = new SqliteUsageLedger({ dataDir: mkdtempSync(join(tmpdir(), 'vigil-bench-')), flushIntervalMs: 1000, maxBatch: 1000 });
const finish = createFinish({ recorder, ledger, log: logs.requestLines() });
const access = { keys: new ConfigKeys(new Map()), counters: new MemoryCounterStore(), recorder, config: { auth: compiled.config.auth, budgets: compiled.config.budgets } };
const breakers = { tryAcquire: () => true, record() {}, state: () => 0 as const, retryAfterMs: () => 0 };
const routing = { aliases: compiled.aliases, breakers, stats: new DeploymentStats(), recorder };
const chatCompletions = buildRoutes(compiled, providers, access, finish, { routing: logs.debugLogger('routing'), auth: logs.debugLogger('auth') }, routing)
  .find((route) => route.path === '/v1/chat/completions')!.endpoint;

const body = JSON.parse(chatRequest('bench-model', false));

async function once(): Promise<void> {
  const ctx = new RequestContext({ requestId: 'r', startedAt: performance.now(), route: '/v1/chat/completions', method: 'POST', dialect: 'openai', operation: 'chat', reply, headers: {} });
  ctx.body = { ...body };
  recorder.requestStarted(ctx.route);
  await chatCompletions(ctx);
}

const N = 100_000;
for (let i = 0; i < N / 10; i++) await once();
const cpu = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < N; i++) await once();
const used = process.cpuUsage(cpu);
console.log(`pipeline, one proxied chat request: ${((performance.now() - started) * 1000 / N).toFixed(1)} µs wall, ${((used.user + used.system) / N).toFixed(1)} µs CPU (log level ${process.env.BENCH_LOG ?? 'info'})`);
await ledger.close();
