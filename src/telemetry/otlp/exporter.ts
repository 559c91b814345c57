// One signal's OTLP export, put together: a record is encoded into its batch the moment it is added, and
// the batch leaves wrapped in the resource/scope envelope through the sender.
import { ExportQueue, type BatchSettings, type DropReason } from './batch.ts';
import { envelope, type Attributes, type Signal } from './encode.ts';
import type { ProtoWriter } from './proto-writer.ts';
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
  /** Appends one record to a batch (encode.ts). */
  encode(w: ProtoWriter, record: T): void;
  onDropped(reason: DropReason, count: number): void;
}

export function createExporter<T>(options: ExporterOptions<T>): RecordSink<T> {
  const sender = createSender(options.settings, options.signal);
  const wrap = envelope(options.resource, options.scope);
  const queue = new ExportQueue<T>({
    batch: options.settings.batch,
    encode: options.encode,
    // wrap copies the batch into the envelope's buffer before anything is awaited; that buffer stays the
    // request body until the send (retries included) is over, as the queue sends one batch at a time.
    exportBatch: (records) => sender.send(wrap(records)),
    onDropped: options.onDropped,
  });
  return {
    add: (record) => queue.add(record),
    async shutdown() {
      await queue.shutdown();
      sender.close();
    },
  };
}
