// The export queue of one signal, with the OpenTelemetry SDK batch processors' semantics and settings:
// records wait up to `scheduled_delay_ms`, leave at once when `max_export_batch_size` are waiting, one
// export runs at a time, and a full queue (`max_queue_size`) drops the newest record. Adding is a push onto
// an array: whatever the collector does, a request never waits for it. Every lost record is counted.
export type DropReason = 'queue_full' | 'export_failed';

export interface BatchSettings {
  max_queue_size: number;
  scheduled_delay_ms: number;
  max_export_batch_size: number;
}

export interface ExportQueueOptions {
  batch: BatchSettings;
  /** Sends one batch of encoded records; rejects when the batch was not accepted. */
  exportBatch(records: Buffer[]): Promise<void>;
  onDropped(reason: DropReason, count: number): void;
}

export class ExportQueue {
  readonly #options: ExportQueueOptions;
  readonly #batchSize: number;
  #records: Buffer[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The export loop while it runs. */
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: ExportQueueOptions) {
    this.#options = options;
    this.#batchSize = Math.max(1, Math.min(options.batch.max_export_batch_size, options.batch.max_queue_size));
  }

  add(record: Buffer): void {
    if (this.#closed) return;
    if (this.#records.length >= this.#options.batch.max_queue_size) {
      this.#options.onDropped('queue_full', 1);
      return;
    }
    this.#records.push(record);
    if (this.#records.length >= this.#batchSize) this.#start(false);
    else this.#schedule();
  }

  /** Exports everything queued so far (and waits for an export already running). */
  async flush(): Promise<void> {
    while (this.#running || this.#records.length) await this.#start(true);
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
      if (this.#records.length) this.#schedule();
    });
    return this.#running;
  }

  async #loop(all: boolean): Promise<void> {
    while (this.#records.length >= this.#batchSize || (all && this.#records.length)) {
      const batch = this.#records.splice(0, this.#batchSize);
      try {
        await this.#options.exportBatch(batch);
      } catch {
        this.#options.onDropped('export_failed', batch.length);
      }
    }
  }
}
