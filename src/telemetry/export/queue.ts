// The export queue of one signal, with the OpenTelemetry SDK batch processors' semantics and settings:
// records wait up to `scheduled_delay_ms`, leave at once when `max_export_batch_size` are waiting, one
// export runs at a time, and a full queue (`max_queue_size`) drops the newest record. Every lost record
// is counted. Whatever the collector does, a request never waits for it.
//
// A record is encoded the moment it is added, straight into its batch's buffer: no object per record
// survives in the queue, so waiting records cost the garbage collector nothing (an object kept for the
// whole delay would be promoted to the old generation).
import { ProtoWriter } from './proto-writer.ts';

/** queue_full: no room when added; export_failed: its export failed; rejected: the collector refused it in a partial success. */
export type DropReason = 'queue_full' | 'export_failed' | 'rejected';

export interface BatchSettings {
  max_queue_size: number;
  scheduled_delay_ms: number;
  max_export_batch_size: number;
}

export interface ExportQueueOptions<T> {
  batch: BatchSettings;
  /** Appends one encoded record to a batch. */
  encode(w: ProtoWriter, record: T): void;
  /**
   * Sends one batch (`count` records' bytes, back to back); rejects when it was not accepted. The bytes are
   * the batch buffer itself, left untouched until the returned promise settles.
   */
  exportBatch(records: Uint8Array, count: number): Promise<void>;
  onDropped(reason: DropReason, count: number): void;
}

interface Batch {
  writer: ProtoWriter;
  count: number;
}

export class ExportQueue<T> {
  readonly #options: ExportQueueOptions<T>;
  readonly #batchSize: number;
  /** Oldest first; only the last one takes new records. */
  #batches: Batch[] = [];
  /** Records in #batches. */
  #queued = 0;
  /** Writers of exported batches, kept for reuse (their buffers have grown to a batch's size). */
  #spare: ProtoWriter[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The export loop while it runs. */
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: ExportQueueOptions<T>) {
    this.#options = options;
    this.#batchSize = Math.max(1, Math.min(options.batch.max_export_batch_size, options.batch.max_queue_size));
  }

  add(record: T): void {
    if (this.#closed) return;
    if (this.#queued >= this.#options.batch.max_queue_size) {
      this.#options.onDropped('queue_full', 1);
      return;
    }
    let open = this.#batches.at(-1);
    if (!open || open.count >= this.#batchSize) {
      open = { writer: this.#spare.pop() ?? new ProtoWriter(16 * 1024), count: 0 };
      this.#batches.push(open);
    }
    // Telemetry must never fail a request: a record that cannot be encoded is dropped whole, and counted.
    const mark = open.writer.length;
    try {
      this.#options.encode(open.writer, record);
    } catch {
      open.writer.truncate(mark);
      this.#options.onDropped('export_failed', 1);
      return;
    }
    open.count++;
    this.#queued++;
    if (open.count >= this.#batchSize) this.#start(false);
    else this.#schedule();
  }

  /** Exports everything queued so far (and waits for an export already running). */
  async flush(): Promise<void> {
    while (this.#running || this.#queued) await this.#start(true);
  }

  /** Flushes, then takes no more records. */
  async shutdown(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.#start(true);
    }, this.#options.batch.scheduled_delay_ms).unref(); // a waiting batch never keeps the process alive
  }

  /** Runs the export loop unless it runs already; `all` also sends a last partial batch. */
  #start(all: boolean): Promise<void> {
    this.#running ??= this.#loop(all).finally(() => {
      this.#running = undefined;
      if (this.#queued) this.#schedule();
    });
    return this.#running;
  }

  async #loop(all: boolean): Promise<void> {
    // `all` (the timer, flush) also sends the batch open at this moment, partial or not; batches begun while
    // exporting wait for their own turn, so a steady stream of records still leaves in full batches.
    let last = all ? this.#batches.at(-1) : undefined;
    for (;;) {
      const batch = this.#batches[0];
      if (!batch || batch.count === 0 || (batch.count < this.#batchSize && !last)) return;
      this.#batches.shift();
      if (batch === last) last = undefined;
      this.#queued -= batch.count;
      try {
        await this.#options.exportBatch(batch.writer.view(), batch.count);
      } catch {
        this.#options.onDropped('export_failed', batch.count);
      }
      this.#spare.push(batch.writer.reset());
    }
  }
}
