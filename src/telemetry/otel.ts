// Start-up of the OpenTelemetry side from config: the tracing port (or nothing, when tracing is off), the
// OTLP log tee for pino, and one shutdown that flushes both. Built before the logger, because the logger
// writes into the tee; the drop counter is attached later, once the metrics recorder exists.
import type { Config } from '../config/schema.ts';
import type { Tracing } from '../core/trace.ts';
import { createOtlpLogs, type LogTee } from './log-export.ts';
import { logExporter, otlpResource, resolveOtlp, spanExporter, type DropReason, type OnDropped, type Signal } from './otlp.ts';
import { createTracing, genAiProviderName } from './trace.ts';

export interface Telemetry {
  /** Undefined when tracing is off: callers skip all span work. */
  readonly tracing: Tracing | undefined;
  /** The second pino destination, when OTLP log export is on. */
  readonly logTee: LogTee | undefined;
  /** Where dropped-record counts go (the metrics recorder); drops before this are kept and replayed. */
  countDropsWith(sink: OnDropped): void;
  /** Exports everything still queued; bounded by the export timeout so a dead collector cannot hold shutdown. */
  shutdown(): Promise<void>;
}

export function startTelemetry(config: Config, options: { version: string; env?: NodeJS.ProcessEnv }): Telemetry {
  const t = config.telemetry;
  const settings = resolveOtlp(t, options.env);
  const resource = otlpResource(t, options.version);

  let sink: OnDropped | undefined;
  const early = new Map<`${Signal} ${DropReason}`, number>(); // summed, so it stays bounded without a sink
  const onDropped: OnDropped = (signal, reason, count) => {
    if (sink) sink(signal, reason, count);
    else early.set(`${signal} ${reason}`, (early.get(`${signal} ${reason}`) ?? 0) + count);
  };

  const exportTraces = settings !== undefined && t.otlp.traces.enabled;
  const tracing = (t.tracing.enabled ?? exportTraces)
    ? createTracing({
      resource,
      version: options.version,
      samplingRatio: t.tracing.sampling_ratio,
      providerNames: new Map(Object.entries(config.providers).map(([id, p]) => [id, genAiProviderName(id, p.kind)])),
      export: exportTraces ? { exporter: spanExporter(settings), settings, onDropped } : undefined,
    })
    : undefined;
  const logs = settings && t.otlp.logs.enabled
    ? createOtlpLogs({ resource, version: options.version, minLevel: t.otlp.logs.min_level, export: { exporter: logExporter(settings), settings, onDropped } })
    : undefined;

  return {
    tracing,
    logTee: logs?.tee,
    countDropsWith(fn) {
      sink = fn;
      for (const [key, count] of early) {
        const [signal, reason] = key.split(' ') as [Signal, DropReason];
        fn(signal, reason, count);
      }
      early.clear();
    },
    async shutdown() {
      await Promise.all([tracing?.shutdown(), logs?.shutdown()]);
    },
  };
}
