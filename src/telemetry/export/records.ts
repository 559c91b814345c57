// The span and log record exporters: a record is encoded into its batch the moment it is added (encode.ts,
// queue.ts), and a batch leaves wrapped in the resource/scope envelope through the shared transport.
import { encodeLogRecord, encodeSpan, envelope, type Attributes, type LogRecordData, type Signal, type SpanRecord } from './encode.ts';
import type { ProtoWriter } from './proto-writer.ts';
import { ExportQueue, type DropReason } from './queue.ts';
import type { OtlpSettings } from './settings.ts';
import { createBytesSender } from './transport.ts';

/** Where finished records go: trace.ts hands it spans, log-export.ts log records. */
export interface RecordSink<T> {
  add(record: T): void;
  /** Exports what is queued and stops; the caller bounds how long it waits. */
  shutdown(): Promise<void>;
}

export interface RecordExporterOptions {
  settings: OtlpSettings;
  resource: Attributes;
  version: string;
  onDropped(reason: DropReason, count: number): void;
}

/** Spans, encoded as they end. */
export function spanExporter(options: RecordExporterOptions): Promise<RecordSink<SpanRecord>> {
  return createRecordExporter('traces', encodeSpan, options);
}

/** Log records, encoded as they are written (observed now). */
export function logExporter(options: RecordExporterOptions): Promise<RecordSink<LogRecordData>> {
  return createRecordExporter('logs', (w, record: LogRecordData) => encodeLogRecord(w, record, Date.now()), options);
}

async function createRecordExporter<T>(signal: Signal, encode: (w: ProtoWriter, record: T) => void, options: RecordExporterOptions): Promise<RecordSink<T>> {
  const sender = await createBytesSender(options.settings, signal, (count) => options.onDropped('rejected', count));
  const wrap = envelope(options.resource, { name: 'vigil', version: options.version });
  const queue = new ExportQueue<T>({
    batch: options.settings.batch,
    encode,
    // wrap copies the batch into the envelope's buffer before anything is awaited; that buffer stays the
    // request body until the send (retries included) is over, as the queue sends one batch at a time.
    exportBatch: (records, count) => sender.send(wrap(records), count),
    onDropped: options.onDropped,
  });
  return {
    add: (record) => queue.add(record),
    async shutdown() {
      await queue.shutdown();
      await sender.shutdown();
    },
  };
}
