// `vigil serve`: build every dependency from config, start listening, and drain gracefully on SIGTERM.
import type { AddressInfo } from 'node:net';
import { buildAdminRoutes } from '../admin/routes.ts';
import { buildRoutes } from '../pipeline/endpoints.ts';
import { createFinish } from '../pipeline/finish.ts';
import { InFlight } from '../pipeline/in-flight.ts';
import { Drains } from '../core/drain.ts';
import { buildProviders, providerChecks } from '../providers/registry.ts';
import { Upstreams } from '../routing/upstream.ts';
import { buildServer } from '../server/app.ts';
import { isClusterPrimary, isClusterWorker, runPrimary, workerCount } from '../server/cluster.ts';
import { startMetricsListener, type MetricsEndpoint } from '../server/metrics-http.ts';
import { yieldV8ThreadsOnOneCpu } from '../server/v8-threads.ts';
import { openStores } from '../store/factory.ts';
import { authCheck, authIsOpen } from '../policy/authenticate.ts';
import { StartupError } from './startup-error.ts';
import { Health, lifecycleCheck } from '../telemetry/health.ts';
import { createLogs } from '../telemetry/log.ts';
import { startTelemetry, type Telemetry } from '../telemetry/start.ts';
import { installCollectors } from '../telemetry/metrics/collect.ts';
import { Recorder } from '../telemetry/metrics/record.ts';
import { SliWindow } from '../telemetry/sli.ts';
import { createMetrics } from '../telemetry/metrics/registry.ts';
import { answerSnapshots, clusterRenderer } from '../telemetry/metrics/cluster.ts';
import { renderLocal } from '../telemetry/metrics/exposition.ts';
import type { CompiledConfig } from '../config/compile.ts';
import type { Logs } from '../telemetry/log.ts';
import { httpUrl, openGatewayWarning } from './bind-address.ts';
import { listenError } from './startup-error.ts';
import { watchStopRequests } from './stop-requests.ts';
import { startRouting } from './routing.ts';
import { validatedConfig } from './validated-config.ts';
import { buildInfo } from './version.ts';

/** After a second signal, the longest the rest of the shutdown (usage records, telemetry export) may take. */
const HURRIED_EXIT_MS = 2000;

export async function serve(options: { config?: string; port?: number }): Promise<void> {
  const { compiled, warnings } = validatedConfig({ path: options.config, port: options.port });
  const { config } = compiled;
  const build = buildInfo();
  // Before the logger: OTLP log export is a second destination of the same JSON log stream.
  const telemetry = await startTelemetry(config, { version: build.version, otlpHeaders: compiled.otlpHeaders });
  const workers = workerCount(config.server.workers);
  // A cluster worker's lines carry its pid: which worker wrote the line.
  const logs = createLogs({ ...config.log, version: build.version, tee: telemetry.logTee, pid: isClusterWorker() ? process.pid : undefined });
  const log = logs.module('server');
  if (!isClusterWorker()) for (const warning of warnings) log.warn(warning); // once, not once per worker
  if (isClusterPrimary(workers)) return supervise(compiled, logs, workers, telemetry);
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
  const upstreams = new Upstreams(config.upstream, recorder);
  const providers = buildProviders(compiled, (url, connections) => upstreams.bind(url, connections));
  const storeLog = logs.module('store');
  const stores = await openStores(compiled, {
    onError: (err) => storeLog.error({ err }, 'usage records or audit events not written; will retry'),
    onCheckpointError: (err) => storeLog.error({ err }, 'WAL checkpoint thread failed; commits checkpoint again'),
    onQuery: (store, operation, seconds) => recorder.storeOperation(store, operation, seconds),
    onAuditRecorded: (type) => recorder.auditRecorded(type),
    onRefreshError: (err) => storeLog.warn({ err }, 'keys or budgets could not be re-read; the last ones read stay in force'),
    onRedisState: (state, err) => {
      if (state === 0) storeLog.info('redis ready: counters shared across replicas');
      else storeLog.warn({ err, on_failure: config.redis.on_failure }, state === 1 ? 'redis connection lost; reconnecting' : 'redis down: limits and budgets fall back per redis.on_failure');
    },
  }).catch((err) => { throw new StartupError(`store: ${(err as Error).message}`); });
  const { ledger } = stores;
  const { auth } = config;
  const routing = startRouting(compiled, stores, recorder, logs.module('routing'));
  const stopCollectors = installCollectors(metrics, {
    sli, store: stores.stats, access: () => ({ ...stores.accessFigures(), authOpen: authIsOpen(auth.required, stores.keys) }), routing: routing.figures,
  });
  const lifecycle = { draining: false, cutting: false };
  const health = new Health().register({ name: 'config', required: true, check: () => ({ status: 'ok' }) }, ...stores.healthChecks,
    authCheck(auth.required, stores.keys), lifecycleCheck(lifecycle), ...providerChecks(providers), routing.healthCheck);
  const finish = createFinish({ recorder, ledger, log: logs.requestLines(), genAiMetrics: telemetry.genAiMetrics });
  const pipelines = new InFlight();
  const drains = new Drains(config.upstream.disconnect_drain);
  const app = buildServer({
    config,
    routes: pipelines.routes([
      ...buildRoutes(compiled, providers, {
        keys: stores.keys,
        counters: stores.counters,
        budgets: stores.budgets,
        analytics: stores.analytics,
        audit: stores.audit,
        recorder,
        config: { auth: config.auth, budgets: config.budgets },
        holdMs: config.upstream.total_timeout_ms + 60_000,
      }, pipelines.finish(finish), {
        routing: logs.debugLogger('routing'),
        auth: logs.debugLogger('auth'),
      }, routing.deps, stores.responseCache && { cache: stores.responseCache, recorder }, recorder),
      ...buildAdminRoutes({
        token: compiled.adminToken, keys: stores.keyStore, configKeys: stores.configKeys, budgets: stores.budgets,
        analytics: stores.analytics, audit: stores.audit, changes: { publish: stores.publishChange }, finish: pipelines.finish(finish),
      }),
    ]),
    finish,
    health,
    recorder,
    lifecycle,
    metrics: config.metrics.main_port ? scrape : undefined,
    tracing: telemetry.tracing,
    version: build.version,
    drains,
  });

  let exitCode = 0;
  const cut = () => {
    lifecycle.cutting = true; // their requests end as GW_UNAVAILABLE_DRAINING, not as clients leaving
    drains.cutAll(); // streams read on after their clients left stop too (their records are marked partial)
    app.server.closeAllConnections();
  };
  const shutdown = async (reason: string) => {
    lifecycle.draining = true;
    log.info({ signal: reason, drain_timeout_ms: config.server.drain_timeout_ms }, 'draining');
    const drainEndsAt = performance.now() + config.server.drain_timeout_ms;
    const deadline = setTimeout(() => {
      log.warn('drain timeout reached; closing remaining connections');
      cut();
    }, config.server.drain_timeout_ms);
    deadline.unref();
    // Keep-alive connections that finish their last response while draining would otherwise idle on.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    await app.close(); // stops accepting, waits for in-flight requests and streams
    // Streams whose clients left are read on with no connection (core/drain.ts): waited for until the deadline.
    if (drains.running > 0) await pipelines.settled(Math.max(0, drainEndsAt - performance.now()));
    clearTimeout(deadline);
    drains.cutAll();
    clearInterval(sweep);
    // Connections cut at the drain timeout (or closed by their clients) can close the server before their
    // pipelines have unwound: their finish, and so their usage record, comes a few ticks later.
    await pipelines.settled(1000);
    routing.close();
    await stores.close(); // writes every queued usage record and audit event
    stopCollectors();
    await upstreams.close();
    await metricsListener?.close(); // last: scrapes keep answering while requests drain
    log.info({ exit_code: exitCode }, 'stopped');
    await telemetry.shutdown(); // exports queued spans, log lines and metrics; bounded by otlp.batch.export_timeout_ms
    logs.flush();
    process.exit(exitCode);
  };
  const { host, port } = config.server;
  const bound = await app.listen({ host, port }).catch((err) => { throw listenError(err, { host, port, hostSetting: 'server.host or VIGIL_HOST', portSetting: 'server.port, VIGIL_PORT or --port' }); });
  const open = openGatewayWarning(bound.address, authIsOpen(auth.required, stores.keys), auth.required);
  if (open) log.warn(open);
  log.info({ address: httpUrl(bound), models: [...compiled.models.keys()] }, 'vigil listening');
  const { listener } = config.metrics; // in cluster mode the primary hosts it
  const metricsListener = listener.enabled && !isClusterWorker()
    ? await startMetricsListener({ host: listener.host ?? host, port: listener.port, endpoint: scrape })
      .catch((err) => { throw listenError(err, { host: listener.host ?? host, port: listener.port, ...METRICS_SETTINGS }); })
    : undefined;
  if (metricsListener) log.info({ address: httpUrl(metricsListener.server.address() as AddressInfo), path: scrape.path }, 'metrics listener ready');
  watchStopRequests({
    drain: (reason) => void shutdown(reason),
    hurry(signal, code) {
      exitCode = code;
      log.warn({ signal, exit_code: code }, `second ${signal}: exiting now without finishing the drain`);
      cut(); // the drain goes on from here: cut requests are still recorded, queued records written
      setTimeout(() => { logs.flush(); process.exit(code); }, HURRIED_EXIT_MS).unref();
    },
  });
}

const METRICS_SETTINGS = { hostSetting: 'metrics.listener.host', portSetting: 'metrics.listener.port' };

/** `server.workers` > 1, in the primary: fork and watch the workers; serve nothing but metrics. */
async function supervise(compiled: CompiledConfig, logs: Logs, workers: number, telemetry: Telemetry): Promise<void> {
  const { server, metrics } = compiled.config;
  const host = metrics.listener.host ?? server.host;
  const primary = await runPrimary({
    workers,
    drainTimeoutMs: server.drain_timeout_ms,
    log: logs.module('cluster'),
    listener: metrics.listener.enabled
      ? { host, port: metrics.listener.port, endpoint: { path: metrics.path, credentials: compiled.metricsCredentials } }
      : undefined,
    onExit: (code) => void telemetry.shutdown().finally(() => { logs.flush(); process.exit(code); }),
  }).catch((err) => { throw listenError(err, { host, port: metrics.listener.port, ...METRICS_SETTINGS }); });
  watchStopRequests({ drain: (reason) => primary.shutdown(reason), hurry: (signal) => primary.hurry(signal) });
}
