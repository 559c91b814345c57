// Rows queued in memory and written in batched multi-row INSERTs over the SQL port, on a timer or when a
// batch is full, never inside a request: the PostgreSQL usage ledger and the audit log (both databases).
// While the store fails the rows wait, at most `maxQueue` of them (older ones are dropped and counted);
// a row the database can never take (a constraint, bad data) is dropped and counted so it cannot block
// every later batch.

export interface BatchWriterOptions<T> {
  /** Writes `rows` in one statement (at most `rowsPerInsert` of them); throws when the database refuses. */
  insert(rows: readonly T[]): Promise<void>;
  rowsPerInsert: number;
  flushIntervalMs: number;
  /** A queue this long is written on the next turn, without waiting for the timer. */
  maxBatch: number;
  maxQueue: number;
  /** Told about every failed write (the rows stay queued, or are dropped when they can never be written). */
  onError?: (err: unknown) => void;
  /** Told about rows once they are stored. */
  onWritten?: (rows: readonly T[]) => void;
}

export class BatchWriter<T> {
  readonly #options: BatchWriterOptions<T>;
  readonly #timer: NodeJS.Timeout;
  #queue: T[] = [];
  #dropped = 0;
  #draining: Promise<void> | undefined;
  #scheduled = false;

  constructor(options: BatchWriterOptions<T>) {
    this.#options = options;
    this.#timer = setInterval(() => void this.#drain(), options.flushIntervalMs);
    this.#timer.unref();
  }

  get queued(): number {
    return this.#queue.length;
  }

  get dropped(): number {
    return this.#dropped;
  }

  push(row: T): void {
    this.#queue.push(row);
    if (this.#queue.length > this.#options.maxQueue) {
      this.#queue.shift();
      this.#dropped++;
    }
    if (this.#queue.length >= this.#options.maxBatch && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.#drain();
      });
    }
  }

  /** Counts a row given up on before it was queued (the caller found it unwritable). */
  drop(): void {
    this.#dropped++;
  }

  /** Writes everything queued; stops (without throwing) when the store fails, leaving the rest queued. */
  async flush(): Promise<void> {
    let before = Infinity;
    while (this.#queue.length > 0 && this.#queue.length < before) {
      before = this.#queue.length;
      await this.#drain();
    }
    await this.#draining;
  }

  /** Stops the timer and writes what it can. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  /** One drain at a time: rows are written in queue order. */
  #drain(): Promise<void> {
    this.#draining ??= this.#writeQueued().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #writeQueued(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.rowsPerInsert);
      if (!(await this.#write(batch))) return; // the timer retries: no tight loop against a failing store
    }
  }

  async #write(batch: T[]): Promise<boolean> {
    try {
      await this.#options.insert(batch);
      this.#options.onWritten?.(batch);
      return true;
    } catch (err) {
      this.#options.onError?.(err);
      const retry = unwritable(err) ? await this.#salvage(batch) : batch;
      this.#queue = retry.concat(this.#queue);
      const excess = this.#queue.length - this.#options.maxQueue;
      if (excess > 0) {
        this.#queue.splice(0, excess);
        this.#dropped += excess;
      }
      return false;
    }
  }

  /** Writes a refused batch row by row: rows refused for what they hold are dropped; the rest wait. */
  async #salvage(batch: T[]): Promise<T[]> {
    const retry: T[] = [];
    for (const row of batch) {
      try {
        await this.#options.insert([row]);
        this.#options.onWritten?.([row]);
      } catch (err) {
        if (unwritable(err)) this.#dropped++;
        else retry.push(row);
      }
    }
    return retry;
  }
}

/**
 * Whether the database refused the rows themselves, so retrying cannot help: PostgreSQL's SQLSTATE classes
 * 22 (data exception) and 23 (integrity constraint); SQLite's constraint, mismatch and too-big codes.
 */
export function unwritable(err: unknown): boolean {
  const { code, errcode } = (err ?? {}) as { code?: unknown; errcode?: unknown };
  if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
  if (typeof errcode === 'number') return [SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH].includes(errcode & 0xff);
  return false;
}

const SQLITE_TOOBIG = 18;
const SQLITE_CONSTRAINT = 19;
const SQLITE_MISMATCH = 20;

/** `INSERT INTO table (columns) VALUES (?, …), …` for `rows` rows, plus `suffix` (e.g. ON CONFLICT). */
export function insertSql(table: string, columns: readonly string[], rows: number, suffix = ''): string {
  const row = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')}${suffix}`;
}

