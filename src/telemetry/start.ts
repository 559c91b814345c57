// Start-up of the OpenTelemetry side from config: the tracing port (or nothing, when tracing is off), the
// OTLP log tee for pino, the GenAI metrics push (opt-in), and one shutdown that flushes all of them. Built
// before the logger, because the logger writes into the tee; the drop counter is attached later, once the
// metrics recorder exists. Tracing is on by default (ids in log lines, traceparent upstream; spans recorded
// only when exported); the exporters and gRPC (~150 ms of module loading) are imported only when a signal
// has an OTLP endpoint.
import type { Config } from '../config/schema.ts';
import type { Tracing } from '../core/trace.ts';
import type { GenAiMetrics } from './export/genai-metrics.ts';
import type { DropReason } from './export/queue.ts';
import { otlpResource, resolveOtlp, type ExportSignal } from './export/settings.ts';
import type { LogTee } from './log.ts';
import type { OtlpLogs } from './log-export.ts';
import type { OtelTracing } from './trace.ts';

/** Told about every record an export gave up on. */
export type OnDropped = (signal: ExportSignal, reason: DropReason, count: number) => void;

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
  const settings = resolveOtlp(t, options.otlpHeaders);
  const urls = settings?.urls ?? {};
  if (!urls.traces && !urls.logs && !urls.metrics && !tracingOn) {
    return { tracing: undefined, logTee: undefined, genAiMetrics: undefined, countDropsWith() {}, async shutdown() {} };
  }
  const resource = otlpResource(t, options.version);
  const shutdownTimeoutMs = t.otlp.batch.export_timeout_ms;

  let sink: OnDropped | undefined;
  const early = new Map<`${ExportSignal} ${DropReason}`, number>(); // summed, so it stays bounded without a sink
  const onDropped: OnDropped = (signal, reason, count) => {
    if (sink) sink(signal, reason, count);
    else early.set(`${signal} ${reason}`, (early.get(`${signal} ${reason}`) ?? 0) + count);
  };
  const exporterOptions = (signal: ExportSignal) => ({
    settings: settings!, resource, version: options.version,
    onDropped: (reason: DropReason, count: number) => onDropped(signal, reason, count),
  });

  const providerNames = async () => {
    const { genAiProviderName } = await import('./trace.ts');
    return new Map(Object.entries(config.providers).map(([id, p]) => [id, genAiProviderName(id, p.kind)]));
  };
  let tracing: OtelTracing | undefined;
  if (tracingOn) {
    const [{ createTracing }, records] = await Promise.all([import('./trace.ts'), urls.traces ? import('./export/records.ts') : undefined]);
    tracing = createTracing({
      samplingRatio: t.tracing.sampling_ratio,
      providerNames: await providerNames(),
      sink: records && await records.spanExporter(exporterOptions('traces')),
      shutdownTimeoutMs,
    });
  }
  let logs: OtlpLogs | undefined;
  if (urls.logs) {
    const [{ createOtlpLogs }, { logExporter }] = await Promise.all([import('./log-export.ts'), import('./export/records.ts')]);
    logs = createOtlpLogs({ minLevel: t.otlp.logs.min_level, sink: await logExporter(exporterOptions('logs')), shutdownTimeoutMs });
  }
  let genAiMetrics: GenAiMetrics | undefined;
  if (urls.metrics) {
    const { createGenAiMetrics } = await import('./export/genai-metrics.ts');
    genAiMetrics = await createGenAiMetrics({
      ...exporterOptions('metrics'), intervalMs: t.otlp.metrics.interval_ms,
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
        const [signal, reason] = key.split(' ') as [ExportSignal, DropReason];
        fn(signal, reason, count);
      }
      early.clear();
    },
    async shutdown() {
      await Promise.all([tracing?.shutdown(), logs?.shutdown(), genAiMetrics?.shutdown()]);
    },
  };
}
