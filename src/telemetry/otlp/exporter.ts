// One signal's OTLP export, put together: a record is encoded the moment it is added, waits in the export
// queue, and leaves in a batch wrapped in the resource/scope envelope through the sender.
import { ExportQueue, type BatchSettings, type DropReason } from './batch.ts';
import { envelope, type Attributes, type Signal } from './encode.ts';
import { createSender, type SendSettings } from './send.ts';

/** Where finished records go: trace.ts hands it spans, log-export.ts log records. */
export interface RecordSink<T> {
  add(record: T): void;
  /** Exports what is queued and stops; the caller bounds how long it waits. */
  shutdown(): Promise<void>;
}

export interface ExporterOptions<T> {
  signal: Signal;
  settings: SendSettings & { batch: BatchSettings };
  resource: Attributes;
  scope: { name: string; version: string };
  encode(record: T): Buffer;
  onDropped(reason: DropReason, count: number): void;
}

export function createExporter<T>(options: ExporterOptions<T>): RecordSink<T> {
  const sender = createSender(options.settings, options.signal);
  const wrap = envelope(options.resource, options.scope);
  const queue = new ExportQueue({
    batch: options.settings.batch,
    exportBatch: (records) => sender.send(wrap(records)),
    onDropped: options.onDropped,
  });
  return {
    add: (record) => queue.add(options.encode(record)),
    async shutdown() {
      await queue.shutdown();
      sender.close();
    },
  };
}
