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
