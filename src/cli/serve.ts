// `vigil serve`: build every dependency from config, start listening, and drain gracefully on SIGTERM.
import { compileConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import { buildEndpoints } from '../pipeline/endpoints.ts';
import { createFinish } from '../pipeline/finish.ts';
import { buildProviders } from '../providers/registry.ts';
import { Upstreams } from '../routing/upstream.ts';
import { buildServer } from '../server/app.ts';
import { SqliteUsageLedger } from '../store/sqlite/usage-ledger.ts';
import { createHealth } from '../telemetry/health.ts';
import { createLogs } from '../telemetry/log.ts';
import { Recorder } from '../telemetry/metrics/record.ts';
import { createMetrics } from '../telemetry/metrics/registry.ts';
import { buildInfo } from './version.ts';

export async function serve(options: { config?: string; port?: number }): Promise<void> {
  const config = loadConfig({ path: options.config, port: options.port });
  const compiled = compileConfig(config);
  const build = buildInfo();
  const logs = createLogs({ ...config.log, version: build.version });
  const log = logs.module('server');

  const metrics = createMetrics();
  const recorder = new Recorder(metrics, { ...build, models: compiled.models.keys() });
  const upstreams = new Upstreams(config.upstream);
  const providers = buildProviders(config, (url, connections) => upstreams.bind(url, connections));
  const storeLog = logs.module('store');
  const ledger = new SqliteUsageLedger({
    dataDir: config.store.data_dir,
    flushIntervalMs: config.store.flush_interval_ms,
    maxBatch: config.store.max_batch,
    onError: (err) => storeLog.error({ err }, 'usage records not written; will retry'),
  });
  const lifecycle = { draining: false };
  const finish = createFinish({ recorder, ledger, log: logs.module('pipeline') });
  const app = buildServer({
    config,
    endpoints: buildEndpoints(compiled, providers, finish),
    finish,
    health: createHealth({ ledger, providers, lifecycle }),
    recorder,
    lifecycle,
    renderMetrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
  });

  for (const provider of providers.values()) {
    if (provider.unavailableReason) log.warn({ provider: provider.id, reason: provider.unavailableReason }, 'provider not usable');
  }
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  log.info({ address, models: [...compiled.models.keys()] }, 'vigil listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.draining = true;
    log.info({ signal, drain_timeout_ms: config.server.drain_timeout_ms }, 'draining');
    const deadline = setTimeout(() => {
      log.warn('drain timeout reached; closing remaining connections');
      app.server.closeAllConnections();
    }, config.server.drain_timeout_ms);
    deadline.unref();
    // Keep-alive connections that finish their last response while draining would otherwise idle on.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    await app.close(); // stops accepting, waits for in-flight requests and streams
    clearTimeout(deadline);
    clearInterval(sweep);
    await ledger.close(); // writes every queued usage record
    await upstreams.close();
    log.info('stopped');
    logs.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
