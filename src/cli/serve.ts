// `vigil serve`: build every dependency from config, start listening, and drain gracefully on SIGTERM.
import { compileConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import { buildEndpoints } from '../pipeline/endpoints.ts';
import { createFinish } from '../pipeline/finish.ts';
import { InFlight } from '../pipeline/in-flight.ts';
import { buildProviders } from '../providers/registry.ts';
import { Upstreams } from '../routing/upstream.ts';
import { buildServer } from '../server/app.ts';
import { isClusterPrimary, isClusterWorker, primaryShutdown, runPrimary, workerCount } from '../server/cluster.ts';
import { startMetricsListener, type MetricsEndpoint } from '../server/metrics-http.ts';
import { yieldV8ThreadsOnOneCpu } from '../server/v8-threads.ts';
import { SqliteUsageLedger } from '../store/sqlite/usage-ledger.ts';
import { createHealth } from '../telemetry/health.ts';
import { createLogs } from '../telemetry/log.ts';
import { startTelemetry, type Telemetry } from '../telemetry/otel.ts';
import { installCollectors } from '../telemetry/metrics/collect.ts';
import { Recorder } from '../telemetry/metrics/record.ts';
import { SliWindow } from '../telemetry/sli.ts';
import { createMetrics } from '../telemetry/metrics/registry.ts';
import { answerSnapshots, clusterRenderer } from '../telemetry/metrics/cluster.ts';
import { renderLocal } from '../telemetry/metrics/exposition.ts';
import type { CompiledConfig } from '../config/compile.ts';
import type { Logs } from '../telemetry/log.ts';
import { buildInfo } from './version.ts';

export async function serve(options: { config?: string; port?: number }): Promise<void> {
  const config = loadConfig({ path: options.config, port: options.port });
  const compiled = compileConfig(config);
  const build = buildInfo();
  // Before the logger: OTLP log export is a second destination of the same JSON log stream.
  const telemetry = await startTelemetry(config, { version: build.version });
  const workers = workerCount(config.server.workers);
  // A cluster worker's lines carry its pid: which worker wrote the line.
  const logs = createLogs({ ...config.log, version: build.version, tee: telemetry.logTee, pid: isClusterWorker() ? process.pid : undefined });
  if (isClusterPrimary(workers)) return supervise(compiled, logs, workers, telemetry);
  const drainRequested = isClusterWorker() ? primaryShutdown() : undefined;
  const log = logs.module('server');
  const yielded = yieldV8ThreadsOnOneCpu();
  if (yielded) log.info({ threads: yielded }, 'one CPU: V8 background threads lowered to nice 10 so they yield to the event loop');

  const metrics = createMetrics();
  if (isClusterWorker()) answerSnapshots(metrics.registry);
  const scrape: MetricsEndpoint = {
    path: config.metrics.path,
    credentials: compiled.metricsCredentials,
    // A worker answers with every worker's metrics combined, as the primary's own listener does.
    render: isClusterWorker() ? clusterRenderer() : (format) => renderLocal(metrics.registry, format),
    onError: (err) => log.warn({ err }, 'metrics scrape failed'),
  };
  const sli = new SliWindow({ windowSeconds: config.slo.window_seconds, latencyBudgetSeconds: config.slo.latency_budget_ms / 1000 });
  const recorder = new Recorder(metrics, {
    ...build, models: compiled.models.keys(), sli,
    maxSeriesPerMetric: config.metrics.max_series_per_metric, identityCost: config.metrics.identity_cost,
  });
  telemetry.countDropsWith((signal, reason, count) => recorder.otlpDropped(signal, reason, count));
  const upstreams = new Upstreams(config.upstream);
  const providers = buildProviders(config, (url, connections) => upstreams.bind(url, connections));
  const storeLog = logs.module('store');
  const ledger = new SqliteUsageLedger({
    dataDir: config.store.data_dir,
    flushIntervalMs: config.store.flush_interval_ms,
    maxBatch: config.store.max_batch,
    onError: (err) => storeLog.error({ err }, 'usage records not written; will retry'),
    onCheckpointError: (err) => storeLog.error({ err }, 'WAL checkpoint thread failed; commits checkpoint again'),
    onQuery: (operation, seconds) => recorder.storeOperation('sqlite', operation, seconds),
  });
  const stopCollectors = installCollectors(metrics, { sli, store: () => ledger.stats() });
  const lifecycle = { draining: false, cutting: false };
  const finish = createFinish({ recorder, ledger, log: logs.requestLines(), genAiMetrics: telemetry.genAiMetrics });
  const pipelines = new InFlight();
  const app = buildServer({
    config,
    endpoints: pipelines.endpoints(buildEndpoints(compiled, providers, pipelines.finish(finish))),
    finish,
    health: createHealth({ ledger, providers, lifecycle }),
    recorder,
    lifecycle,
    metrics: config.metrics.main_port ? scrape : undefined,
    tracing: telemetry.tracing,
  });

  for (const provider of providers.values()) {
    if (provider.unavailableReason) log.warn({ provider: provider.id, reason: provider.unavailableReason }, 'provider not usable');
  }
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  log.info({ address, models: [...compiled.models.keys()] }, 'vigil listening');
  const { listener } = config.metrics; // in cluster mode the primary hosts it
  const metricsListener = listener.enabled && !isClusterWorker()
    ? await startMetricsListener({ host: listener.host, port: listener.port, endpoint: scrape })
    : undefined;
  if (metricsListener) log.info({ port: listener.port, path: scrape.path }, 'metrics listener ready');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.draining = true;
    log.info({ signal, drain_timeout_ms: config.server.drain_timeout_ms }, 'draining');
    const deadline = setTimeout(() => {
      log.warn('drain timeout reached; closing remaining connections');
      lifecycle.cutting = true; // their requests end as GW_UNAVAILABLE_DRAINING, not as clients leaving
      app.server.closeAllConnections();
    }, config.server.drain_timeout_ms);
    deadline.unref();
    // Keep-alive connections that finish their last response while draining would otherwise idle on.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    await app.close(); // stops accepting, waits for in-flight requests and streams
    clearTimeout(deadline);
    clearInterval(sweep);
    // Connections cut at the drain timeout (or closed by their clients) can close the server before their
    // pipelines have unwound: their finish, and so their usage record, comes a few ticks later.
    await pipelines.settled(1000);
    await ledger.close(); // writes every queued usage record
    stopCollectors();
    await upstreams.close();
    await metricsListener?.close(); // last: scrapes keep answering while requests drain
    log.info('stopped');
    await telemetry.shutdown(); // exports queued spans, log lines and metrics; bounded by otlp.batch.export_timeout_ms
    logs.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  void drainRequested?.then((signal) => shutdown(signal));
}

/** `server.workers` > 1, in the primary: fork and watch the workers; serve nothing but metrics. */
async function supervise(compiled: CompiledConfig, logs: Logs, workers: number, telemetry: Telemetry): Promise<void> {
  const { server, metrics } = compiled.config;
  await runPrimary({
    workers,
    drainTimeoutMs: server.drain_timeout_ms,
    log: logs.module('cluster'),
    listener: metrics.listener.enabled
      ? { host: metrics.listener.host, port: metrics.listener.port, endpoint: { path: metrics.path, credentials: compiled.metricsCredentials } }
      : undefined,
    onExit: (code) => void telemetry.shutdown().finally(() => { logs.flush(); process.exit(code); }),
  });
}
