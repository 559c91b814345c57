// Values read at scrape time rather than recorded per request: SLI ratios, store state and the Node
// runtime. Chosen deliberately instead of prom-client's collectDefaultMetrics, whose open-fd count and
// active-handle listing cost a directory read and array allocations on every scrape.
import { monitorEventLoopDelay, PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { SliWindow } from '../sli.ts';
import type { Metrics } from './registry.ts';


export interface CollectSources {
  sli: SliWindow;
  store: () => StoreFigures;
  /** Keys, counters, Redis and audit, read at scrape time (store/factory.ts Stores.accessFigures). */
  access?: () => AccessFigures;
  /** Routable deployments per alias and response-cache entries, read at scrape time. */
  routing?: () => RoutingFigures;
}

export interface RoutingFigures {
  /** Alias → deployments whose breaker is not open. */
  routable: ReadonlyMap<string, number>;
  /** Deployment id → attempts running against it. */
  inFlight: ReadonlyMap<string, number>;
  cacheEntries: number;
}

/** What the access stores say about themselves; a part is absent when its store is not in use. */
export interface AccessFigures {
  /** Whether requests are served without a key right now. */
  authOpen: boolean;
  /** Keys by state, from the key store's cache. */
  keys?: Record<'active' | 'revoked' | 'expired', number>;
  /** Counters held in memory. */
  buckets: number;
  /** Present when redis.url is set: 0 ready, 1 reconnecting, 2 down. */
  redisState?: 0 | 1 | 2;
  /** Present for PostgreSQL: the pool's connections. */
  pool?: { total: number; idle: number; waiting: number };
  /** Audit events given up on, since start. */
  auditDropped: number;
}

/** What the store says about itself (store/ports.ts LedgerStats); `walBytes` only from stores with a WAL. */
export interface StoreFigures {
  store: string;
  open: boolean;
  queued: number;
  dropped: number;
  walBytes?: number;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Installs the collectors; returns a function that stops the runtime observers. */
export function installCollectors(metrics: Metrics, sources: CollectSources): () => void {
  const m = metrics.instruments;
  const onScrape = (metric: object, fn: () => void) => { (metric as { collect?: () => void }).collect = fn; };

  onScrape(m.sliAvailability, () => {
    const ratios = sources.sli.ratios();
    m.sliAvailability.set(ratios.availability);
    m.sliLatency.set(ratios.latency);
    m.sliSecurity.set(ratios.security);
    m.sliEvents.labels('availability').set(ratios.requests);
    m.sliEvents.labels('security').set(ratios.requests);
    m.sliEvents.labels('latency').set(ratios.proxied);
  });

  let dropped = 0;
  onScrape(m.storeWalBytes, () => {
    const stats = sources.store();
    if (stats.walBytes !== undefined) m.storeWalBytes.labels(stats.store).set(stats.walBytes);
    m.storeConnections.labels(stats.store, 'open').set(stats.open ? 1 : 0);
    m.usageQueue.set(stats.queued);
    m.usageDropped.inc(stats.dropped - dropped);
    dropped = stats.dropped;
  });

  if (sources.access) {
    const access = sources.access;
    let auditDropped = 0;
    onScrape(m.authOpen, () => {
      const figures = access();
      m.authOpen.set(figures.authOpen ? 1 : 0);
      if (figures.keys) for (const [state, count] of Object.entries(figures.keys)) m.gatewayKeys.labels(state).set(count);
      m.rateLimitBuckets.set(figures.buckets);
      if (figures.redisState !== undefined) {
        m.redisHealth.set(figures.redisState);
        m.redisDegraded.set(figures.redisState === 0 ? 0 : 1);
      }
      if (figures.pool) for (const [state, count] of Object.entries(figures.pool)) m.storeConnections.labels('postgres', state).set(count);
      m.auditDropped.inc(figures.auditDropped - auditDropped);
      auditDropped = figures.auditDropped;
    });
  }

  if (sources.routing) {
    const routing = sources.routing;
    onScrape(m.deploymentInFlight, () => { // the first of the three in catalog order: all are set before any is read
      const figures = routing();
      for (const [alias, count] of figures.routable) m.routableDeployments.labels(alias).set(count);
      for (const [deployment, count] of figures.inFlight) m.deploymentInFlight.labels(deployment).set(count);
      m.cacheEntries.set(figures.cacheEntries);
    });
  }

  let cpu = process.cpuUsage();
  onScrape(m.processCpu, () => {
    const now = process.cpuUsage();
    m.processCpu.inc((now.user - cpu.user + now.system - cpu.system) / 1e6);
    cpu = now;
  });
  onScrape(m.processResidentMemory, () => m.processResidentMemory.set(process.memoryUsage.rss()));
  m.processStartTime.set(Math.round(Date.now() / 1000 - process.uptime()));
  onScrape(m.heapUsed, () => {
    const heap = getHeapStatistics();
    m.heapUsed.set(heap.used_heap_size);
    m.heapLimit.set(heap.heap_size_limit);
  });

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  onScrape(m.eventLoopLag, () => {
    m.eventLoopLag.set(loop.count ? loop.percentile(99) / 1e9 : 0);
    loop.reset();
  });

  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      m.gcDuration.labels(kind).observe(entry.duration / 1000);
    }
  });
  gc.observe({ entryTypes: ['gc'] });

  return () => {
    loop.disable();
    gc.disconnect();
  };
}
