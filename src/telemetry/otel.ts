// Start-up of the OpenTelemetry side from config: the tracing port (or nothing, when tracing is off), the
// OTLP log tee for pino, the GenAI metrics push (opt-in), and one shutdown that flushes all of them. Built before the logger, because the logger
// writes into the tee; the drop counter is attached later, once the metrics recorder exists. Tracing is on
// by default (ids in log lines, traceparent upstream; spans recorded only when exported); the exporters
// and gRPC (~150 ms of module loading) are imported only when an OTLP endpoint is set.
import type { Config } from '../config/schema.ts';
import type { Tracing } from '../core/trace.ts';
import type { GenAiMetrics } from './genai-metrics.ts';
import type { LogTee } from './log.ts';
import type { OtlpLogs } from './log-export.ts';
import type { DropReason, OnDropped, Signal } from './otlp.ts';
import type { OtelTracing } from './trace.ts';

export interface Telemetry {
  /** Undefined when tracing is off: callers skip all span work. */
  readonly tracing: Tracing | undefined;
  /** The second pino destination, when OTLP log export is on. */
  readonly logTee: LogTee | undefined;
  /** GenAI semantic-convention histograms over OTLP; undefined unless telemetry.otlp.metrics.enabled. */
  readonly genAiMetrics: GenAiMetrics | undefined;
  /** Where dropped-record counts go (the metrics recorder); drops before this are kept and replayed. */
  countDropsWith(sink: OnDropped): void;
  /** Exports everything still queued; bounded by the export timeout so a dead collector cannot hold shutdown. */
  shutdown(): Promise<void>;
}

/** `otlpHeaders`: the OTLP headers as config/compile.ts resolved them. */
export async function startTelemetry(config: Config, options: { version: string; otlpHeaders: Readonly<Record<string, string>> }): Promise<Telemetry> {
  const t = config.telemetry;
  const tracingOn = t.tracing.enabled;
  const exporting = t.otlp.endpoint !== undefined && (t.otlp.traces.enabled || t.otlp.logs.enabled || t.otlp.metrics.enabled);
  if (!exporting && !tracingOn) return { tracing: undefined, logTee: undefined, genAiMetrics: undefined, countDropsWith() {}, async shutdown() {} };
  const otlp = exporting ? await import('./otlp.ts') : undefined;
  const settings = otlp?.resolveOtlp(t, options.otlpHeaders);
  const resource = otlp?.otlpResource(t, options.version) ?? {};
  const shutdownTimeoutMs = t.otlp.batch.export_timeout_ms;

  let sink: OnDropped | undefined;
  const early = new Map<`${Signal} ${DropReason}`, number>(); // summed, so it stays bounded without a sink
  const onDropped: OnDropped = (signal, reason, count) => {
    if (sink) sink(signal, reason, count);
    else early.set(`${signal} ${reason}`, (early.get(`${signal} ${reason}`) ?? 0) + count);
  };

  const providerNames = async () => {
    const { genAiProviderName } = await import('./trace.ts');
    return new Map(Object.entries(config.providers).map(([id, p]) => [id, genAiProviderName(id, p.kind)]));
  };
  let tracing: OtelTracing | undefined;
  if (tracingOn) {
    const { createTracing } = await import('./trace.ts');
    tracing = createTracing({
      samplingRatio: t.tracing.sampling_ratio,
      providerNames: await providerNames(),
      sink: otlp && settings && t.otlp.traces.enabled ? otlp.spanExporter(settings, resource, options.version, onDropped) : undefined,
      shutdownTimeoutMs,
    });
  }
  let logs: OtlpLogs | undefined;
  if (otlp && settings && t.otlp.logs.enabled) {
    const { createOtlpLogs } = await import('./log-export.ts');
    logs = createOtlpLogs({ minLevel: t.otlp.logs.min_level, sink: otlp.logExporter(settings, resource, options.version, onDropped), shutdownTimeoutMs });
  }
  let genAiMetrics: GenAiMetrics | undefined;
  if (settings && t.otlp.metrics.enabled) {
    const { createGenAiMetrics } = await import('./genai-metrics.ts');
    genAiMetrics = await createGenAiMetrics({
      settings, resource, version: options.version, intervalMs: t.otlp.metrics.interval_ms,
      models: config.models.map((m) => m.name), providerNames: await providerNames(), shutdownTimeoutMs,
    });
  }

  return {
    tracing,
    logTee: logs?.tee,
    genAiMetrics,
    countDropsWith(fn) {
      sink = fn;
      for (const [key, count] of early) {
        const [signal, reason] = key.split(' ') as [Signal, DropReason];
        fn(signal, reason, count);
      }
      early.clear();
    },
    async shutdown() {
      await Promise.all([tracing?.shutdown(), logs?.shutdown(), genAiMetrics?.shutdown()]);
    },
  };
}
